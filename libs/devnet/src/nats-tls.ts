/**
 * A throwaway TLS CA for NATS, with a server certificate (for every node: client and route ports) and client
 * certificates, written as PEM files. The dev network's NATS-with-auth mode uses it, and `beamline nats-certs`
 * makes one for a test installation of infra/nats. For production, use the organisation's own CA.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as forge from 'node-forge';

export interface NatsTlsFiles {
  dir: string;
  /** `ca.crt.pem`: NATS_TLS_CA of the clients, `ca_file` of the servers. */
  caCertFile: string;
  /** `ca.key.pem` (0600): only needed to make more certificates. */
  caKeyFile: string;
  /** `server.crt.pem` / `server.key.pem` (0600): `cert_file` / `key_file` of every node, client and cluster port. */
  serverCertFile: string;
  serverKeyFile: string;
  /** `<name>.crt.pem` / `<name>.key.pem` (0600) per client: NATS_TLS_CERT / NATS_TLS_KEY. */
  clients: Record<string, { certFile: string; keyFile: string }>;
}

export interface NatsTlsOptions {
  /** Names and addresses the servers are reached at (DNS names or IPs); `localhost` and 127.0.0.1 always. */
  hosts?: string[];
  /** Client certificates to make, by common name (e.g. the NATS users). */
  clients?: string[];
  /** Default 825 days (what browsers and many TLS stacks accept at most for a leaf). */
  validityDays?: number;
}

interface Issued {
  certPem: string;
  keyPem: string;
}

function rsaKey(): { publicKey: forge.pki.PublicKey; privateKey: forge.pki.rsa.PrivateKey; keyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  return {
    publicKey: forge.pki.publicKeyFromPem(publicKey),
    privateKey: forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey,
    keyPem: privateKey,
  };
}

function certificate(o: {
  cn: string;
  issuer?: { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey };
  validityDays: number;
  extensions: object[];
}): Issued & { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey } {
  const key = rsaKey();
  const cert = forge.pki.createCertificate();
  const serial = randomBytes(16);
  serial[0] &= 0x7f;
  cert.serialNumber = serial.toString('hex');
  cert.publicKey = key.publicKey;
  cert.validity.notBefore = new Date(Date.now() - 5 * 60_000);
  cert.validity.notAfter = new Date(Date.now() + o.validityDays * 86_400_000);
  const subject = [{ name: 'commonName', value: o.cn }];
  cert.setSubject(subject);
  cert.setIssuer(o.issuer ? o.issuer.cert.subject.attributes : subject);
  cert.setExtensions([...o.extensions, { name: 'subjectKeyIdentifier' }]);
  cert.sign(o.issuer?.key ?? key.privateKey, forge.md.sha256.create());
  return { cert, key: key.privateKey, certPem: forge.pki.certificateToPem(cert), keyPem: key.keyPem };
}

/** Subject alternative names: a DNS name (type 2) or an IP address (type 7). */
function altNames(hosts: string[]): object[] {
  return [...new Set(['localhost', '127.0.0.1', '::1', ...hosts])].map((h) => (isIP(h) ? { type: 7, ip: h } : { type: 2, value: h }));
}

/**
 * Makes the CA, one server certificate for `hosts` (serverAuth and clientAuth: cluster nodes dial each other's
 * route ports) and a client certificate per name in `clients`, into `dir` (created if missing).
 */
export function makeNatsTls(dir: string, opts: NatsTlsOptions = {}): NatsTlsFiles {
  const validityDays = opts.validityDays ?? 825;
  mkdirSync(dir, { recursive: true });
  const write = (name: string, text: string, mode: number): string => {
    const path = join(dir, name);
    writeFileSync(path, text, { mode, flag: 'wx' });
    return path;
  };
  const ca = certificate({
    cn: 'Beamline NATS test CA',
    validityDays: validityDays + 1,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  const issuer = { cert: ca.cert, key: ca.key };
  const leaf = (extKeyUsage: object) => [
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', ...extKeyUsage },
  ];
  const hosts = opts.hosts ?? [];
  const server = certificate({
    cn: hosts[0] ?? 'localhost',
    issuer,
    validityDays,
    extensions: [...leaf({ serverAuth: true, clientAuth: true }), { name: 'subjectAltName', altNames: altNames(hosts) }],
  });
  const files: NatsTlsFiles = {
    dir,
    caCertFile: write('ca.crt.pem', ca.certPem, 0o644),
    caKeyFile: write('ca.key.pem', ca.keyPem, 0o600),
    serverCertFile: write('server.crt.pem', server.certPem, 0o644),
    serverKeyFile: write('server.key.pem', server.keyPem, 0o600),
    clients: {},
  };
  for (const name of opts.clients ?? []) {
    const client = certificate({ cn: name, issuer, validityDays, extensions: leaf({ clientAuth: true }) });
    files.clients[name] = { certFile: write(`${name}.crt.pem`, client.certPem, 0o644), keyFile: write(`${name}.key.pem`, client.keyPem, 0o600) };
  }
  return files;
}
