/** The files the demo leaves for the other `beamline` commands while it runs: `.beamline/demo.env` and `.beamline/demo-ca`. */
import { rmSync } from 'node:fs';
import type { DevNetwork } from '@beamline/devnet';
import { demoEnvFile, readDemoEnv, removeDemoEnv, writeDemoEnv } from '../demo-env';

export interface DemoFiles {
  envFile: string;
  /** The demo's CA directory: `<env file without .env>-ca`, `.beamline/demo-ca` by default. */
  caDir: string;
}

/** Where they go, or none when `BEAMLINE_DEMO_ENV` is empty. */
export function demoFiles(): DemoFiles | undefined {
  const envFile = demoEnvFile();
  return envFile === undefined ? undefined : { envFile, caDir: `${envFile.replace(/\.env$/, '')}-ca` };
}

/** The pid of a demo that wrote `envFile` and still runs, if any. */
export function runningDemo(envFile: string): number | undefined {
  const pid = Number(readDemoEnv({ BEAMLINE_DEMO_ENV: envFile }).BEAMLINE_DEMO_PID);
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

/** What a command needs to reach the demo: NATS (with the CA operator's login when NATS is secured), the CA, the URLs. */
function demoVariables(net: DevNetwork, caDir: string): Record<string, string> {
  const vars: Record<string, string> = {
    BEAMLINE_DEMO_PID: String(process.pid),
    NATS_URL: net.natsUrl,
    BEAMLINE_CA_DIR: caDir,
    ROOTCERT_FILE: net.pki.rootCertFile,
    BROKER_URL: net.brokerUrl,
  };
  const sec = net.natsSecurity;
  if (sec) {
    const ca = sec.tls.clients['beamline-ca'];
    Object.assign(vars, {
      NATS_USER: 'beamline-ca',
      NATS_PASSWORD_FILE: sec.passwordFiles['beamline-ca'],
      NATS_TLS_CA: sec.tls.caCertFile,
      NATS_TLS_CERT: ca.certFile,
      NATS_TLS_KEY: ca.keyFile,
    });
  }
  net.proxies.forEach((p, i) => {
    vars[`PROXY${i + 1}_ID`] = p.id;
    vars[`PROXY${i + 1}_URL`] = `http://localhost:${p.port}`;
    vars[`PROXY${i + 1}_PRIVKEY_FILE`] = net.pki.proxies[i].keyFile;
  });
  return vars;
}

export function writeDemoFiles(files: DemoFiles, net: DevNetwork): void {
  writeDemoEnv(
    files.envFile,
    `Written by "beamline demo" (pid ${process.pid}) at ${new Date().toISOString()}; removed when it stops.\n` +
      'Every "beamline" command reads it while it exists; flags and environment variables win.',
    demoVariables(net, files.caDir),
  );
}

export function removeDemoFiles(files: DemoFiles): void {
  removeDemoEnv(files.envFile);
  rmSync(files.caDir, { recursive: true, force: true });
}
