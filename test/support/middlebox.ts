/**
 * Real middleboxes from Debian's packages, run in the foreground by the test that needs them, each with its own
 * configuration, logs and pid file in a temporary directory: squid (a forward proxy that alone can resolve the
 * broker's host name) and nginx (a TLS-terminating reverse proxy). Neither can bind port 0, so each gets a
 * port found free by binding it first, and is started again on another one if something took it meanwhile.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Middlebox {
  port: number;
  dir: string;
  /** The access log as it is now. */
  accessLog(): string;
  /** Its own diagnostics (squid's cache.log, nginx's error log) and its stderr. */
  diagnostics(): string;
  stop(): Promise<void>;
}

interface Recipe {
  name: string;
  binary: string;
  /** Writes the configuration for `port` into `dir`; returns the arguments to run it in the foreground. */
  configure(dir: string, port: number): string[];
  accessLog: string;
  diagnosticsLog: string;
  /** In the diagnostics once it serves on the port. */
  ready: RegExp;
  /** In the diagnostics when the port was taken. */
  portTaken: RegExp;
}

const START_TIMEOUT_MS = 20_000;

/** The binary's path (Debian installs both in /usr/sbin, which may not be on a test runner's PATH). */
export function middleboxBinary(name: string): string {
  return existsSync(`/usr/sbin/${name}`) ? `/usr/sbin/${name}` : name;
}

/** A port that was free a moment ago on 127.0.0.1. */
async function probeFreePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function startMiddlebox(recipe: Recipe): Promise<Middlebox> {
  const dir = mkdtempSync(join(tmpdir(), `beamline-${recipe.name}-`));
  // squid (and nginx's workers) drop root privileges; their files here must stay writable to them.
  chmodSync(dir, 0o777);
  for (let attempt = 1; ; attempt++) {
    const port = await probeFreePort();
    const started = await startOnce(recipe, dir, port);
    if (started !== 'port taken') return started;
    if (attempt === 5) throw new Error(`${recipe.name}: five free ports were taken before it could bind them`);
  }
}

async function startOnce(recipe: Recipe, dir: string, port: number): Promise<Middlebox | 'port taken'> {
  for (const file of [recipe.accessLog, recipe.diagnosticsLog]) writeFileSync(join(dir, file), '', { mode: 0o666 });
  chmodSync(join(dir, recipe.accessLog), 0o666);
  chmodSync(join(dir, recipe.diagnosticsLog), 0o666);
  const args = recipe.configure(dir, port);
  const child = spawn(middleboxBinary(recipe.binary), args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.once('error', (err) => (output += `spawn failed: ${err.message}\n`));
  const read = (file: string): string => (existsSync(join(dir, file)) ? readFileSync(join(dir, file), 'utf8') : '');
  const diagnostics = (): string => `${read(recipe.diagnosticsLog)}${output}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const text = diagnostics();
    if (recipe.portTaken.test(text)) {
      await stopChild(child, exited);
      return 'port taken';
    }
    if (recipe.ready.test(text)) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      await stopChild(child, exited);
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`${recipe.name} did not start on port ${port}:\n${text}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    dir,
    accessLog: () => read(recipe.accessLog),
    diagnostics,
    stop: async () => {
      await stopChild(child, exited);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** SIGTERM, then SIGKILL if it is still there after 5 s. */
async function stopChild(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/**
 * squid as a site's forward proxy: it allows everything from loopback, caches nothing, and resolves
 * `hosts` (name → address) from its own hosts file, so a name only it knows is reachable only through it.
 */
export function startSquid(hosts: Record<string, string>): Promise<Middlebox> {
  return startMiddlebox({
    name: 'squid',
    binary: 'squid',
    accessLog: 'access.log',
    diagnosticsLog: 'cache.log',
    ready: /Accepting HTTP Socket connections/,
    portTaken: /Address already in use/,
    configure: (dir, port) => {
      writeFileSync(
        join(dir, 'hosts'),
        Object.entries(hosts)
          .map(([name, ip]) => `${ip} ${name}\n`)
          .join(''),
      );
      const conf = [
        `http_port 127.0.0.1:${port}`,
        'http_access allow all',
        'cache deny all',
        `hosts_file ${join(dir, 'hosts')}`,
        `pid_filename ${join(dir, 'squid.pid')}`,
        `access_log stdio:${join(dir, 'access.log')}`,
        `cache_log ${join(dir, 'cache.log')}`,
        'cache_store_log none',
        'logfile_rotate 0',
        `coredump_dir ${dir}`,
        'visible_hostname beamline-test-squid',
        'shutdown_lifetime 0 seconds',
      ].join('\n');
      writeFileSync(join(dir, 'squid.conf'), `${conf}\n`);
      return ['-N', '-f', join(dir, 'squid.conf')];
    },
  });
}

/** The nginx configuration README's "Run a site" section shows, for a TLS front of `upstreams` on `port`. */
export function nginxFrontConf(o: { dir: string; port: number; upstreams: string[]; certFile: string; keyFile: string }): string {
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `  ${kind}_temp_path ${join(o.dir, kind)};`).join('\n');
  return `worker_processes 1;
pid ${join(o.dir, 'nginx.pid')};
error_log ${join(o.dir, 'error.log')} notice;
events { worker_connections 1024; }
http {
  log_format front '$remote_addr "$request" $status $body_bytes_sent upstream=$upstream_addr';
  access_log ${join(o.dir, 'access.log')} front;
${temp}
  map $http_upgrade $connection_upgrade { default upgrade; '' ''; }
  upstream broker_api {
${o.upstreams.map((u) => `    server ${new URL(u).host};`).join('\n')}
    keepalive 16;
  }
  server {
    listen 127.0.0.1:${o.port} ssl;
    ssl_certificate ${o.certFile};
    ssl_certificate_key ${o.keyFile};
    client_max_body_size 32m;
    location / {
      proxy_pass http://broker_api;
      proxy_http_version 1.1;
      proxy_set_header Host $host;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_buffering off;
      proxy_request_buffering off;
      proxy_read_timeout 3700s;
      proxy_send_timeout 3700s;
    }
  }
}
`;
}

/** nginx terminating TLS (`certFile`, `keyFile`) in front of `upstreams` (round robin), as README shows it. */
export function startNginxFront(o: { upstreams: string[]; certFile: string; keyFile: string }): Promise<Middlebox> {
  return startMiddlebox({
    name: 'nginx',
    binary: 'nginx',
    accessLog: 'access.log',
    diagnosticsLog: 'error.log',
    ready: /start worker process/,
    portTaken: /Address already in use/,
    configure: (dir, port) => {
      writeFileSync(join(dir, 'nginx.conf'), nginxFrontConf({ dir, port, ...o }));
      return ['-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'];
    },
  });
}
