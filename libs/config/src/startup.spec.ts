import { z } from 'zod';
import { setting } from './setting';
import { effectiveConfig, isSecretSetting, redactUrlPasswords, settingsHelp, type ComponentDoc } from './startup';

const doc: ComponentDoc = {
  component: 'demo-app',
  summary: 'A component for this test.',
  schema: z.object({
    BROKER_URL: setting.text<string>(undefined, 'where the broker is'),
    NATS_URL: setting.text('nats://127.0.0.1:4222', 'NATS servers'),
    MAX_WAIT: setting.duration(60_000, 'the longest wait'),
    SESSION_SECRET: setting.optionalText('the secret', (raw) => raw, 'required, or `SESSION_SECRET_FILE`'),
    MONITORING_API_KEY: setting.optionalText('a password'),
    NATS_PASSWORD_FILE: setting.optionalText('a file holding the password'),
  }),
  extra: { 'APP_<label>_KEY': { meaning: 'API key of an app', default: 'no apps' } },
  extraPattern: /^APP_.+_KEY$/,
};

describe('start command texts', () => {
  it('--help lists every variable with its default (or "required") and meaning', () => {
    const help = settingsHelp(doc);
    expect(help).toMatch(/^Usage: beamline demo-app \[--print-config\]/);
    expect(help).toContain('  BROKER_URL  (required)\n      where the broker is\n');
    expect(help).toContain('  MAX_WAIT  (default: 1m)\n      the longest wait\n');
    expect(help).toContain('  APP_<label>_KEY  (default: no apps)\n');
    expect(help).toContain('--print-config');
  });

  it('--print-config shows values and defaults, never a secret or a URL password', () => {
    const text = effectiveConfig(doc, {
      BROKER_URL: 'https://broker.example.org',
      NATS_URL: 'nats://broker-api:s3cret@nats-1:4222,nats://nats-2:4222',
      SESSION_SECRET: 'aa'.repeat(32),
      MONITORING_API_KEY: 'SuperSecretKey',
      NATS_PASSWORD_FILE: '/etc/beamline/nats.password',
      APP_app1_KEY: 'App1Secret',
      UNRELATED: 'x',
    });
    expect(text).toBe(
      [
        '# demo-app: effective configuration (secrets redacted)',
        'BROKER_URL=https://broker.example.org',
        'NATS_URL=nats://broker-api:<redacted>@nats-1:4222,nats://nats-2:4222',
        'MAX_WAIT=1m  # default',
        'SESSION_SECRET=<redacted>',
        'MONITORING_API_KEY=<redacted>',
        'NATS_PASSWORD_FILE=/etc/beamline/nats.password',
        'APP_app1_KEY=<redacted>',
        '',
      ].join('\n'),
    );
    expect(effectiveConfig(doc, {})).toContain('# SESSION_SECRET unset (required, or `SESSION_SECRET_FILE`)\n');
  });

  it('knows which variables are secret', () => {
    expect(['SESSION_SECRET', 'MONITORING_API_KEY', 'APP_x_KEY', 'NATS_PASSWORD'].every(isSecretSetting)).toBe(true);
    expect(['SESSION_SECRET_FILE', 'NATS_PASSWORD_FILE', 'PRIVKEY_FILE', 'NATS_TLS_KEY', 'BROKER_URL'].some(isSecretSetting)).toBe(false);
    expect(redactUrlPasswords('http://u:p@h:1/x')).toBe('http://u:<redacted>@h:1/x');
  });
});
