/**
 * @beamline/client as an app developer gets it: packed by scripts/pack-client.sh, installed from the tarball
 * into an empty project (no registry, no dependencies), then used from a CommonJS script and from an ES module
 * script against a real dev network: a task round trip (app1 posts, app2 polls and answers, app1 polls the
 * result), the result as a Server-Sent Event, a direct-socket echo, and a small file sent, listed and downloaded. The scripts run in their own `node`
 * processes, as an app would, and print one JSON summary line. The example of libs/client/README.md runs too,
 * exactly as written there.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { APP1, APP2, dumpLogs, startTestNetwork, type TestNetwork } from './support/network';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '..');
const KEY = 'App1Secret';

let t: TestNetwork | undefined;
let project: string | undefined;
let tarball: string;

/** The scenario both scripts run; `header` loads the client the module system's way. */
function scenario(header: string, resolveLine: string): string {
  return `${header}
const { randomBytes, randomUUID } = require_('node:crypto');
const assert = require_('node:assert/strict');
const { PROXY1_URL, PROXY2_URL, APP1, APP2, KEY } = process.env;

async function main() {
  const app1 = new BeamClient(APP1, KEY, PROXY1_URL, { bodies: 'json' });
  const app2 = new BeamClient(APP2, KEY, PROXY2_URL, { bodies: 'json' });
  const nonce = randomUUID();

  // A task round trip, beam-lib style.
  const { id } = await app1.postTask({ to: [APP2], body: { question: 'the answer?', nonce }, metadata: { nonce } });
  const pending = await app2.pollPendingTasks({ waitCount: 1, waitTimeMs: 20000 });
  const task = pending.find((p) => p.id === id);
  assert.ok(task, 'app2 sees the task');
  assert.deepEqual(task.body, { question: 'the answer?', nonce });
  assert.equal(await app2.putResult({ task: id, to: [APP1], status: 'claimed' }), 'created');

  // The answer, seen twice: as a Server-Sent Event and by a long-poll.
  const stream = app1.streamResults(id, { waitCount: 1, waitTimeMs: 20000 });
  const streamed = (async () => {
    const seen = [];
    for await (const result of stream) seen.push(result);
    return seen;
  })();
  assert.equal(await app2.putResult({ task: id, to: [APP1], status: 'succeeded', body: { answer: 42 } }), 'replaced');
  const results = await app1.pollResults(id, { waitCount: 1, waitTimeMs: 20000 });
  assert.deepEqual(results.map((r) => [r.from, r.status, r.body]), [[APP2, 'succeeded', { answer: 42 }]]);
  const events = await streamed;
  assert.equal(stream.endReason, 'complete');
  assert.deepEqual(events.at(-1).body, { answer: 42 });

  // A direct socket: app1 asks, app2 finds the request and connects, app2 echoes what app1 sends.
  const initiating = app1.createSocket(APP2, { metadata: { nonce } });
  let request;
  for (let i = 0; i < 10 && !request; i++) {
    request = (await app2.listSockets({ waitCount: 1, waitTimeMs: 5000 })).find((r) => r.from === APP1 && r.metadata && r.metadata.nonce === nonce);
  }
  assert.ok(request, 'app2 lists the socket request');
  const recipient = await app2.connectSocket(request.id);
  recipient.pipe(recipient);
  const initiator = await initiating;
  const payload = randomBytes(256 * 1024);
  const echoed = await new Promise((resolve, reject) => {
    const chunks = [];
    let got = 0;
    initiator.on('data', (chunk) => {
      chunks.push(chunk);
      got += chunk.length;
      if (got >= payload.length) resolve(Buffer.concat(chunks));
    });
    initiator.on('error', reject);
    initiator.write(payload);
  });
  assert.ok(echoed.equals(payload), 'the echo is byte for byte what was sent');
  initiator.destroy();
  recipient.destroy();

  // A small file, store and forward: app1 sends it, app2 finds it in its listing and downloads it.
  const content = randomBytes(300 * 1024);
  const sent = await app1.sendFile(APP2, (async function* () { yield content; })(), { metadata: { nonce } });
  let offered;
  for (let i = 0; i < 10 && !offered; i++) {
    offered = (await app2.listFiles({ waitCount: 1, waitTimeMs: 5000 })).find((f) => f.id === sent.id);
  }
  assert.ok(offered, 'app2 lists the file');
  assert.deepEqual([offered.from, offered.size, offered.metadata], [APP1, content.length, { nonce }]);
  const received = [];
  for await (const piece of await app2.downloadFile(sent.id)) received.push(piece);
  assert.ok(Buffer.concat(received).equals(content), 'the file arrives byte for byte');
  await app2.deleteFile(sent.id);

  console.log(JSON.stringify({ loadedFrom: ${resolveLine}, task: id, streamed: events.map((e) => e.status), echoedBytes: echoed.length, fileBytes: Buffer.concat(received).length }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
`;
}

const CJS = scenario(`const { BeamClient } = require('@beamline/client');\nconst require_ = require;`, `require.resolve('@beamline/client')`);
const ESM = scenario(
  `import { createRequire } from 'node:module';\nimport { BeamClient } from '@beamline/client';\nconst require_ = createRequire(import.meta.url);`,
  `import.meta.resolve('@beamline/client')`,
);

/** A TypeScript app of each module system; both must typecheck against the installed declarations. */
const TS_APP = `import { BeamClient, BeamError, type TaskRequest } from '@beamline/client';
export async function answer(client: BeamClient): Promise<TaskRequest<{ n: number }>[]> {
  try {
    return await client.pollPendingTasks<{ n: number }>({ waitCount: 1, bodies: 'json' });
  } catch (err) {
    if (err instanceof BeamError) console.error(err.status, err.code);
    throw err;
  }
}
`;

/** The README's complete example: the code block that starts with `// example.mjs`. */
function readmeExample(): string {
  const readme = readFileSync(join(ROOT, 'libs', 'client', 'README.md'), 'utf8');
  const block = /```js\n(\/\/ example\.mjs\n[\s\S]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error('libs/client/README.md has no ```js block starting with // example.mjs');
  return block;
}

async function packAndInstall(): Promise<string> {
  const packed = await run('bash', [join(ROOT, 'scripts', 'pack-client.sh')], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
  tarball = packed.stdout.trim().split('\n').at(-1) ?? '';
  const dir = mkdtempSync(join(tmpdir(), 'beamline-client-app-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'client-pack-test', private: true }));
  await run('npm', ['install', '--no-audit', '--no-fund', tarball], { cwd: dir });
  writeFileSync(join(dir, 'roundtrip.cjs'), CJS);
  writeFileSync(join(dir, 'roundtrip.mjs'), ESM);
  writeFileSync(join(dir, 'example.mjs'), readmeExample());
  writeFileSync(join(dir, 'app.cts'), TS_APP);
  writeFileSync(join(dir, 'app.mts'), TS_APP);
  return dir;
}

beforeAll(async () => {
  const [dir, net] = await Promise.all([packAndInstall(), startTestNetwork()]);
  project = dir;
  t = net;
}, 240_000);

afterAll(async () => {
  if (process.env.BEAMLINE_TEST_LOG === 'dump' && t) console.log(dumpLogs(t.net));
  await t?.net.stop();
  if (project) rmSync(project, { recursive: true, force: true });
  if (tarball) rmSync(resolve(tarball, '..'), { recursive: true, force: true });
});

/** Runs a script of the temporary project against the network; resolves with its stdout. */
async function runNode(file: string): Promise<string> {
  const [proxy1, proxy2] = t?.net.proxies ?? [];
  const env = { ...process.env, PROXY1_URL: proxy1.url, PROXY2_URL: proxy2.url, APP1, APP2, KEY };
  try {
    return (await run(process.execPath, [file], { cwd: project, env, timeout: 90_000 })).stdout;
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: string; stderr?: string };
    throw new Error(`node ${file} failed:\n${stdout ?? ''}\n${stderr ?? ''}`);
  }
}

async function runScript(file: string): Promise<Record<string, unknown>> {
  const stdout = await runNode(file);
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as Record<string, unknown>;
}

describe('@beamline/client from its npm tarball', () => {
  it('packs into a tarball with both module formats and no dependencies', async () => {
    expect(tarball).toMatch(/^\/.*beamline-client-\d+\.\d+\.\d+\.tgz$/);
    const { stdout } = await run('tar', ['tzf', tarball]);
    const files = stdout.split('\n');
    expect(files).toEqual(
      expect.arrayContaining([
        'package/package.json',
        'package/README.md',
        'package/dist/cjs/index.js',
        'package/dist/cjs/index.d.ts',
        'package/dist/esm/index.js',
      ]),
    );
    expect(files.some((f) => f.endsWith('.spec.js') || f.includes('testing/'))).toBe(false);
    const { stdout: manifest } = await run('tar', ['xzf', tarball, '-O', 'package/package.json']);
    const pkg = JSON.parse(manifest) as Record<string, unknown>;
    expect(pkg.dependencies).toBeUndefined();
    expect(pkg.engines).toEqual({ node: '>=20' });
  });

  it('works from CommonJS: task round trip, SSE result, socket echo, a small file', async () => {
    const summary = await runScript('roundtrip.cjs');
    expect(summary.loadedFrom).toMatch(/node_modules\/@beamline\/client\/dist\/cjs\/index\.js$/);
    // The claim shows only if the stream was open before the answer replaced it; the answer always does, last.
    expect(summary.streamed).toEqual(expect.arrayContaining(['succeeded']));
    expect((summary.streamed as string[]).at(-1)).toBe('succeeded');
    expect((summary.streamed as string[]).every((s) => s === 'claimed' || s === 'succeeded')).toBe(true);
    expect(summary.echoedBytes).toBe(256 * 1024);
    expect(summary.fileBytes).toBe(300 * 1024);
  }, 120_000);

  it('works from an ES module: task round trip, SSE result, socket echo, a small file', async () => {
    const summary = await runScript('roundtrip.mjs');
    expect(summary.loadedFrom).toMatch(/node_modules\/@beamline\/client\/dist\/esm\/index\.js$/);
    // The claim shows only if the stream was open before the answer replaced it; the answer always does, last.
    expect(summary.streamed).toEqual(expect.arrayContaining(['succeeded']));
    expect((summary.streamed as string[]).at(-1)).toBe('succeeded');
    expect((summary.streamed as string[]).every((s) => s === 'claimed' || s === 'succeeded')).toBe(true);
    expect(summary.echoedBytes).toBe(256 * 1024);
    expect(summary.fileBytes).toBe(300 * 1024);
  }, 120_000);

  it("runs the README's example as written", async () => {
    const stdout = await runNode('example.mjs');
    expect(stdout).toContain('stream ended: complete');
    expect(stdout).toContain(`${APP2} says: { answer: 42 }`);
    expect(stdout).toContain('echo: hello through Beam');
  }, 120_000);

  it('gives TypeScript apps of both module systems its declarations', async () => {
    const tsc = join(ROOT, 'node_modules', '.bin', 'tsc');
    const args = ['--noEmit', '--strict', '--module', 'node16', '--moduleResolution', 'node16', '--target', 'es2022'];
    const typeArgs = ['--typeRoots', join(ROOT, 'node_modules', '@types'), '--types', 'node'];
    await expect(run(tsc, [...args, ...typeArgs, 'app.cts', 'app.mts'], { cwd: project })).resolves.toBeDefined();
  }, 60_000);
});
