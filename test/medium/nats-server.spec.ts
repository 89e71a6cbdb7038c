import { jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ts from 'typescript';
import { NATS_INSTALL_COMMAND, NATS_MAX_PAYLOAD, resolveNatsServerBinary, startNatsServer, type NatsServerHandle } from '@beamline/devnet';

/** False for gone and for zombie processes (an orphan's zombie waits for whoever reaps it here). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

/** Holds a port on 127.0.0.1 (one the OS picks, or `port`) until closed. */
async function holdPort(port = 0): Promise<Server> {
  const blocker = createServer();
  await new Promise<void>((resolve, reject) => {
    blocker.once('error', reject);
    blocker.listen(port, '127.0.0.1', resolve);
  });
  return blocker;
}

async function eventuallyDead(pid: number, ms = 3_000): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline;) {
    if (!isAlive(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return !isAlive(pid);
}

describe('startNatsServer', () => {
  let server: NatsServerHandle | undefined;
  let nc: NatsConnection | undefined;

  afterEach(async () => {
    await nc?.close();
    await server?.stop();
    nc = undefined;
    server = undefined;
  });

  it('runs JetStream with file storage that survives kill() and restart()', async () => {
    server = await startNatsServer();
    expect(server.url).toBe(`nats://127.0.0.1:${server.port}`);
    const first = (nc = await connect({ servers: server.url }));
    expect(first.info?.max_payload).toBe(NATS_MAX_PAYLOAD);
    const jsm = await jetstreamManager(first);
    await jsm.streams.add({ name: 'DEVNET_TEST', subjects: ['devnet.test.>'], storage: StorageType.File });
    const big = new Uint8Array(11 * 1024 * 1024).fill(7); // a sealed 10 MB body does not fit the 1 MB default
    const ack = await jetstream(first).publish('devnet.test.a', big);
    expect((await jsm.streams.getMessage('DEVNET_TEST', { seq: ack.seq }))?.data.length).toBe(big.length);
    await first.close();
    nc = undefined;

    const firstPid = server.pid;
    await server.kill();
    expect(isAlive(firstPid)).toBe(false);
    await server.restart();
    expect(server.pid).not.toBe(firstPid);

    nc = await connect({ servers: server.url });
    const again = await jetstreamManager(nc);
    const msg = await again.streams.getMessage('DEVNET_TEST', { seq: ack.seq });
    expect(msg?.subject).toBe('devnet.test.a');
    expect(msg?.data.length).toBe(big.length);
  });

  it('stop() leaves no process and removes its temporary store', async () => {
    const handle = await startNatsServer();
    const { pid, storeDir } = handle;
    expect(isAlive(pid)).toBe(true);
    expect(existsSync(storeDir)).toBe(true);
    await handle.stop();
    expect(isAlive(pid)).toBe(false);
    expect(existsSync(storeDir)).toBe(false);
    await handle.stop(); // idempotent
  });

  it('keeps a store directory it was given', async () => {
    const storeDir = mkdtempSync(join(tmpdir(), 'devnet-spec-store-'));
    try {
      const handle = await startNatsServer({ storeDir });
      await handle.stop();
      expect(existsSync(join(storeDir, 'jetstream'))).toBe(true);
    } finally {
      rmSync(storeDir, { recursive: true, force: true });
    }
  });

  it('listens on a port the OS assigned (it asked for any), and two servers started at once get two', async () => {
    const [a, b] = await Promise.all([startNatsServer(), startNatsServer()]);
    try {
      // The first launch's configuration asks nats-server for any port; the port comes from its log.
      expect(readFileSync(join(a.storeDir, '..', 'nats.conf'), 'utf8')).toContain('listen: 127.0.0.1:-1\n');
      expect(a.port).toBeGreaterThan(0);
      expect(a.port).not.toBe(b.port);
      for (const server of [a, b]) {
        const conn = await connect({ servers: server.url });
        expect(conn.info?.port).toBe(server.port);
        await conn.close();
      }
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it("rejects with the server's output when a port it is given is in use", async () => {
    const blocker = await holdPort();
    try {
      const port = (blocker.address() as AddressInfo).port;
      await expect(startNatsServer({ port })).rejects.toThrow(new RegExp(`nats-server: 127\\.0\\.0\\.1:${port} is in use[\\s\\S]*address already in use`));
    } finally {
      blocker.close();
    }
  });

  it('fails a restart clearly when another process took its port while it was down', async () => {
    server = await startNatsServer();
    const { port } = server;
    await server.kill();
    const blocker = await holdPort(port);
    try {
      await expect(server.restart()).rejects.toThrow(new RegExp(`nats-server: cannot restart on 127\\.0\\.0\\.1:${port}, the ports it had`));
    } finally {
      blocker.close();
    }
    await server.restart(); // the port is free again: same port, same store
    expect(server.port).toBe(port);
  });

  it('refuses a port out of range', async () => {
    await expect(startNatsServer({ port: 65536 })).rejects.toThrow(/port must be an integer from 1 to 65535/);
  });

  it('names the install command when there is no binary', () => {
    expect(() => resolveNatsServerBinary({ PATH: '/nonexistent' }, [])).toThrow(NATS_INSTALL_COMMAND);
    expect(() => resolveNatsServerBinary({ NATS_SERVER_BIN: '/nonexistent/nats-server' })).toThrow(/NATS_SERVER_BIN/);
  });

  it('does not outlive the process that started it', async () => {
    // Compile libs/devnet's plain-Node files to a temp dir inside the repository (so that node-forge, which the
    // TLS helpers import, resolves) and run them in a child that exits at once.
    const scratch = join(__dirname, '..', '..', '.tmp');
    mkdirSync(scratch, { recursive: true });
    const out = mkdtempSync(join(scratch, 'devnet-spec-exit-'));
    try {
      for (const file of ['child', 'nats-server', 'nats-auth', 'nats-tls']) {
        const source = readFileSync(join(__dirname, '..', '..', 'libs', 'devnet', 'src', `${file}.ts`), 'utf8');
        const { outputText } = ts.transpileModule(source, {
          compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
        });
        writeFileSync(join(out, `${file}.js`), outputText);
      }
      const script = `require('./nats-server').startNatsServer().then((s) => { console.log(s.pid); process.exit(0); });`;
      const run = spawnSync(process.execPath, ['-e', script], { cwd: out, encoding: 'utf8', timeout: 30_000 });
      const pid = Number(run.stdout.trim());
      expect(pid).toBeGreaterThan(0);
      const dead = await eventuallyDead(pid);
      if (!dead) process.kill(pid, 'SIGKILL');
      expect(dead).toBe(true);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
