import { readFileSync } from 'node:fs';
import { AuditVerifier, escapeControls, jsonForTerminal, readAudit, type AuditFailure, type AuditSummary } from '@beamline/audit';
import { subjects, PKI_STREAM } from '@beamline/nats';
import { Progress } from '../progress';
import type { PkiSubcommand as AuditSubcommand } from './pki-common';
import { DEFAULT_NATS_URL, natsUrlOf, rootCertFileOf, UsageError, withNats } from './pki-common';

const USAGE = `Usage: beamline audit verify [--nats-url URL] [--root-cert FILE | --ca-dir DIR] [--json]

Verifies every event of the audit trail (the BEAM_AUDIT stream) offline, with nothing but the pinned root:

  1. rebuilds the certificate directory from the CA-signed PKI events (BEAM_PKI, exactly as the broker folds
     it); a directory event the CA did not sign is a failure;
  2. for every TaskCreated, ResultPut and SocketRequested: the signer certificate (the JWS kid) chains to the
     root and was valid when BEAM_AUDIT stored the event (not before notBefore, not after notAfter, not
     revoked at or before it); the signature verifies; the signer's name can sign for the message's "from"
     (label boundary); and the event's envelope (task or socket id, from, to, status; digest and expiry of
     tasks and socket requests; subject) matches the signed message. A socket id is requested once.
  3. TaskExpired and SocketConnected are the broker's own and unsigned: their subject is checked, and a
     SocketConnected must connect a socket requested before it in the trail, once, for its recipient.

Why the stored time: the event's own "receivedAt" is unsigned, and whoever can publish to NATS writes it.
Judged at receivedAt, the holder of a revoked or expired key could backdate new events to before the
revocation. The time BEAM_AUDIT stored a copy is set by nats-server as it stores it, and an honest event is
copied only after the broker received it; the signed messages carry no time of their own. So a revocation
applies to every event stored after the revocation's time. An honest event copied late (no broker-store
held the copier's lease across a revocation or a certificate's expiry) is reported too: the trail cannot
tell it from a backdated one. Its reason shows both times.

Prints one line per failing event — FAIL #<seq> <type> task=<id> | socket=<id> | subject=<subject> <reason> —
then a summary on stdout. Everything printed comes from NATS: control characters (C0, DEL, C1, bidi controls,
line separators) are shown escaped (\\x1b, \\r, \\u202e); --json escapes them as \\uNNNN, losslessly.

Options:
  --root-cert FILE   the pinned root certificate (default $ROOTCERT_FILE, else the running demo's)
  --ca-dir DIR       take the root certificate from a CA directory
  --json             print one JSON object instead: {ok, checked, passed, failed, byType, unsigned, pkiEvents,
                     certificates, failures: [{seq, subject, type, taskId, socketId, reason}]}
  --nats-url URL     NATS server(s), comma-separated (default $NATS_URL, else the running demo's, else
                     ${DEFAULT_NATS_URL})
  -h, --help         show this help

Exit codes: 0 every event verified, 1 any event failed (or verification could not run), 2 usage error.

Example:
  beamline audit verify --root-cert root.crt.pem --nats-url nats://nats.example.org:4222
`;

function failLine(f: AuditFailure): string {
  const about = f.taskId ? `task=${f.taskId}` : f.socketId ? `socket=${f.socketId}` : `subject=${f.subject}`;
  return `FAIL  #${f.seq}  ${f.type}  ${about}  ${f.reason}`;
}

function summaryLine(s: AuditSummary): string {
  const types =
    Object.entries(s.byType)
      .map(([k, v]) => `${v} ${k}`)
      .join(', ') || 'no events';
  return (
    `${s.ok ? 'OK' : 'FAILED'}: ${s.checked} signed events checked, ${s.passed} passed, ${s.failed} failed (${types}; ` +
    `${s.pkiEvents} directory events, ${s.certificates} certificates)`
  );
}

export const auditVerify: AuditSubcommand = {
  name: 'verify',
  summary: "check every event's signature, signer and envelope against the CA, offline",
  usage: USAGE,
  options: { 'nats-url': { type: 'string' }, json: { type: 'boolean' }, 'root-cert': { type: 'string' }, 'ca-dir': { type: 'string' } },
  positionals: [0, 0],
  async run(args, io) {
    const rootFile = rootCertFileOf(args);
    if (!rootFile) throw new UsageError('the pinned root is required: --root-cert FILE, --ca-dir DIR or $ROOTCERT_FILE');
    let rootCertPem: string;
    try {
      rootCertPem = readFileSync(rootFile, 'utf8');
    } catch (err) {
      throw new Error(`cannot read the root certificate ${rootFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
    }
    let verifier: AuditVerifier;
    try {
      verifier = new AuditVerifier(rootCertPem);
    } catch (err) {
      throw new Error(`${rootFile} is not a certificate: ${(err as Error).message}`, { cause: err });
    }
    const progress = new Progress('audit verify');
    try {
      await withNats(natsUrlOf(args), async (nc) => {
        // Pass 1: the directory, complete, before any event is judged (the audit stream interleaves the two
        // sources in arrival order, not causally).
        await readAudit(nc, { stream: PKI_STREAM, filterSubject: subjects.allPki }, (m) => {
          progress.tick();
          verifier.addPki(m);
        });
        verifier.finishPki();
        await readAudit(nc, { filterSubject: subjects.allEvents }, (m) => {
          progress.tick();
          return verifier.addEvent(m);
        });
      });
    } finally {
      progress.done();
    }
    const s = verifier.summary();
    if (args.values.json === true) {
      io.out(`${jsonForTerminal(s)}\n`);
    } else {
      // Reasons quote ids, subjects and kids from NATS: no control character reaches the terminal.
      for (const f of s.failures) io.out(`${escapeControls(failLine(f))}\n`);
      io.out(`${escapeControls(summaryLine(s))}\n`);
    }
    return s.ok ? 0 : 1;
  },
};
