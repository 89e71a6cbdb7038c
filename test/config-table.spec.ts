/**
 * README's configuration table is generated from the apps' schemas, so it cannot drift from what they parse.
 * To regenerate it after changing a schema: BEAMLINE_UPDATE_README=1 npx jest test/config-table.spec.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { configTable } from '@beamline/config';
import { natsEnv } from '@beamline/nats';
import { brokerEnvSchema } from '../apps/broker-api/src/config';
import { storeEnvSchema } from '../apps/broker-store/src/config';
import { PROXY_APP_KEYS_DOC, proxyEnvSchema } from '../apps/proxy/src/config';

const README = join(__dirname, '..', 'README.md');
const START = '<!-- config-table:start (generated from apps/*/src/config.ts by test/config-table.spec.ts) -->';
const END = '<!-- config-table:end -->';

function generated(): string {
  return configTable([
    { component: 'proxy', schema: proxyEnvSchema, extra: PROXY_APP_KEYS_DOC },
    { component: 'broker-api', schema: brokerEnvSchema },
    { component: 'broker-store', schema: storeEnvSchema },
    // The CLI reads the same NATS variables with the same code (its `--nats-url` flag stands for NATS_URL).
    { component: '`beamline` (CLI)', schema: z.object(natsEnv) },
  ]);
}

it("README's configuration table is the one the apps' schemas generate", () => {
  const readme = readFileSync(README, 'utf8');
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  expect(start).toBeGreaterThan(-1);
  expect(end).toBeGreaterThan(start);
  const expected = `${START}\n${generated()}\n${END}`;
  if (process.env.BEAMLINE_UPDATE_README === '1') writeFileSync(README, readme.slice(0, start) + expected + readme.slice(end + END.length));
  else expect(readme.slice(start, end + END.length)).toBe(expected);
});
