/**
 * What a component's start command (`beamline proxy`, `node dist/apps/proxy/src/main.js`) says about its
 * configuration: `--help` lists every variable with its default and meaning, `--print-config` the effective
 * values with secrets redacted. Both come from the same schema the component parses.
 */
import type { EnvSchema, SettingMeta } from './setting';

/** A component's configuration, as its start command documents it. */
export interface ComponentDoc {
  /** `proxy`, `broker-api`, `broker-store`. */
  component: string;
  /** One paragraph: what the component is. */
  summary: string;
  schema: EnvSchema;
  /** Variables the schema cannot declare by name, e.g. `APP_<label>_KEY`. */
  extra?: Record<string, SettingMeta>;
  /** Which environment variables the `extra` entries stand for (e.g. /^APP_.+_KEY$/), for `--print-config`. */
  extraPattern?: RegExp;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Secret values: passwords, API keys, session secrets. Variables naming a file (`*_FILE`) show the path. */
export function isSecretSetting(name: string): boolean {
  return /(SECRET|PASSWORD|API_KEY)$/.test(name) || /^APP_.+_KEY$/.test(name);
}

/** A URL (or a comma-separated list of them) without the password of any `user:password@`. */
export function redactUrlPasswords(value: string): string {
  return value.replace(/(\/\/[^:@/\s,]*:)[^@/\s,]*@/g, '$1<redacted>@');
}

function settingMeta(meta: Record<string, unknown> | undefined): SettingMeta {
  return { meaning: typeof meta?.meaning === 'string' ? meta.meaning : '', default: typeof meta?.default === 'string' ? meta.default : undefined };
}

function entries(doc: ComponentDoc): [string, SettingMeta][] {
  return [...Object.entries(doc.schema.shape).map(([name, s]): [string, SettingMeta] => [name, settingMeta(s.meta())]), ...Object.entries(doc.extra ?? {})];
}

/** `text` broken into lines of at most `width` characters, each indented by `indent`. */
function wrap(text: string, indent: string, width = 100): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line !== '' && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(indent + line);
  return lines;
}

/** `--help` of a component's start command: usage, summary, then every variable with its default and meaning. */
export function settingsHelp(doc: ComponentDoc): string {
  const vars = entries(doc).flatMap(([name, meta]) => [
    `  ${name}  (${meta.default === undefined ? 'required' : `default: ${meta.default}`})`,
    ...wrap(meta.meaning, '      '),
  ]);
  return [
    `Usage: beamline ${doc.component} [--print-config]      (the same as: node dist/apps/${doc.component}/src/main.js)`,
    '',
    ...wrap(doc.summary, ''),
    '',
    'Configured by environment variables only. A bad or missing one stops the start with one line per problem',
    'and exit status 2, before anything connects.',
    '',
    'Options:',
    '  --print-config   print the effective configuration (secrets redacted) and exit',
    '  -h, --help       show this help',
    '',
    'Environment:',
    ...vars,
    '',
  ].join('\n');
}

/**
 * The effective configuration as `NAME=value` lines (an env file): the value given, else the default (marked
 * `# default`); passwords, keys and secrets as `<redacted>`, URL passwords too.
 */
export function effectiveConfig(doc: ComponentDoc, env: Env): string {
  const lines = [`# ${doc.component}: effective configuration (secrets redacted)`];
  const shown = (name: string, value: string): string => (isSecretSetting(name) ? '<redacted>' : redactUrlPasswords(value));
  for (const [name, meta] of Object.entries(doc.schema.shape).map(([n, s]): [string, SettingMeta] => [n, settingMeta(s.meta())])) {
    const value = env[name];
    if (value !== undefined && value !== '') lines.push(`${name}=${shown(name, value)}`);
    else if (meta.default !== undefined && !/[\s`]/.test(meta.default) && meta.default !== 'unset') lines.push(`${name}=${meta.default}  # default`);
    else lines.push(`# ${name} unset${meta.default && meta.default !== 'unset' ? ` (${meta.default})` : ''}`);
  }
  if (doc.extraPattern) {
    const pattern = doc.extraPattern;
    const extra = Object.keys(env).filter((name) => pattern.test(name) && env[name]);
    for (const name of extra.sort()) lines.push(`${name}=${shown(name, env[name] ?? '')}`);
  }
  return `${lines.join('\n')}\n`;
}
