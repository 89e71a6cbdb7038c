import {
  describeAuditMessage,
  escapeControls,
  formatRecord,
  jsonForTerminal,
  matchesFilter,
  parseTimeSpec,
  readAudit,
  type AuditRecord,
  type RecordFilter,
} from '@beamline/audit';
import { parseBeamId, parseUuid } from '@beamline/domain';
import { subjects, PKI_STREAM, type ConnectionWork } from '@beamline/nats';
import { Progress } from '../progress';
import type { PkiSubcommand as AuditSubcommand, ParsedArgs } from './pki-common';
import { DEFAULT_NATS_URL, natsUrlOf, optionalString, UsageError, withNats } from './pki-common';

const USAGE = `Usage: beamline audit replay [--since T] [--until T] [--task ID] [--app ID] [--follow] [--json] [--nats-url URL]

Prints every event of the audit trail (the BEAM_AUDIT stream, which keeps tasks and results for the audit
retention, also after they expired and were purged from the live log), one line each, oldest first:

  time  audit#seq  type  task=<id>  <from> → <to,...>  status=<status>  message=<bytes>B  ciphertext=<bytes>B  kid=<serial>

time is when the broker received the event (TaskCreated, ResultPut), when the task expired (TaskExpired), or
for the directory (CertificatePublished, CertificateRevoked, IntermediatePublished) the revocation time or
when the audit stream stored it. message = size of the signed message as stored, ciphertext = size of the
sealed body (nonce + ciphertext + tag; 0 without a body). Bodies are never shown or decrypted: the broker
holds no key to them. Directory events are merged into the task events by time; each is numbered in its own
stream: audit#17 is BEAM_AUDIT's message 17, pki#3 BEAM_PKI's message 3.

Replay shows the trail as NATS holds it and verifies nothing: the times, ids, kid and signed-by are what
whoever published the event wrote ("beamline audit verify" checks them). Control characters (C0, DEL, C1,
bidi controls, line separators) in any field are shown escaped (\\x1b, \\r, \\u202e), so no field can move
the cursor, erase or hide a line; --json escapes them as \\uNNNN, losslessly.

Options:
  --since T         only events at or after T: RFC 3339 (2025-06-01T12:00:00Z) or a duration ago (30m, 1h, 7d)
  --until T         only events at or before T (same forms)
  --task ID         only the events of this task (a UUID)
  --app ID          only events this app sent or received (e.g. app1.proxy1.broker); includes the expiry of
                    its tasks
  --follow          keep printing new events as they arrive, until Ctrl-C
  --json            one JSON object per line: {seq, stream, subject, time, type, taskId, from, to, status,
                    messageBytes, ciphertextBytes, kid, expiresAt, serial, commonName, notBefore, notAfter,
                    reason, storedAt} (fields that apply; storedAt: when the stream stored it)
  --nats-url URL    NATS server(s), comma-separated (default $NATS_URL, else the running demo's, else
                    ${DEFAULT_NATS_URL})
  -h, --help        show this help

Exit codes: 0 done (also when nothing matched; a note goes to stderr), 2 usage error, 1 failure.

Example:
  beamline audit replay --since 1h --app app1.proxy1.broker --nats-url nats://nats.example.org:4222
`;

/** Ignore the clock skew between the brokers' receivedAt and the stream's own timestamps when seeking. */
const SEEK_MARGIN_MS = 10 * 60_000;

function timeOption(args: ParsedArgs, name: string, now: number): number | undefined {
  const v = optionalString(args, name);
  if (v === undefined) return undefined;
  try {
    return parseTimeSpec(v, now);
  } catch (err) {
    throw new UsageError(`--${name}: ${(err as Error).message}`);
  }
}

function parseFilter(args: ParsedArgs): RecordFilter {
  const now = Date.now();
  const filter: RecordFilter = { sinceMs: timeOption(args, 'since', now), untilMs: timeOption(args, 'until', now) };
  const task = optionalString(args, 'task');
  const app = optionalString(args, 'app');
  try {
    if (task !== undefined) filter.taskId = parseUuid(task, '--task');
    if (app !== undefined) filter.app = parseBeamId(app, '--app');
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (filter.sinceMs !== undefined && filter.untilMs !== undefined && filter.sinceMs > filter.untilMs) throw new UsageError('--since is after --until');
  return filter;
}

export const auditReplay: AuditSubcommand = {
  name: 'replay',
  summary: 'print every event of the audit trail (no bodies), filtered by time, task or app',
  usage: USAGE,
  options: {
    since: { type: 'string' },
    until: { type: 'string' },
    task: { type: 'string' },
    app: { type: 'string' },
    follow: { type: 'boolean' },
    json: { type: 'boolean' },
    'nats-url': { type: 'string' },
  },
  positionals: [0, 0],
  async run(args, io) {
    const filter = parseFilter(args);
    const json = args.values.json === true;
    const follow = args.values.follow === true;
    const abort = new AbortController();
    const onSigint = (): void => abort.abort();
    if (follow) {
      process.once('SIGINT', onSigint);
      process.once('SIGTERM', onSigint);
    }
    const progress = new Progress('audit replay');
    let printed = 0;
    const print = (record: AuditRecord): void => {
      if (!matchesFilter(record, filter)) return;
      printed++;
      // Every field is as NATS holds it, unverified: no control character reaches the terminal.
      io.out(`${json ? jsonForTerminal(record) : escapeControls(formatRecord(record))}\n`);
    };
    try {
      await withNats(natsUrlOf(args), async (nc) => {
        // The certificate directory (BEAM_PKI, small, kept forever) is read first and merged by time into the
        // task events (BEAM_AUDIT) as they stream past, so the whole trail comes out oldest first.
        const directory = filter.taskId ? [] : await readDirectory(nc, abort.signal);
        const parties: Parties = new Map();
        const flushUntil = (timeMs: number): void => {
          while (directory.length > 0 && Date.parse(directory[0].time) <= timeMs) print(directory.shift() as AuditRecord);
        };
        await readAudit(nc, auditReadOptions(filter, follow, abort.signal), (m) => {
          progress.tick();
          const record = withParties(describeAuditMessage(m.seq, m.subject, m.data, m.storedAt), parties);
          flushUntil(Date.parse(record.time));
          print(record);
        });
        flushUntil(Infinity);
      });
    } finally {
      progress.done();
      process.removeListener('SIGINT', onSigint);
      process.removeListener('SIGTERM', onSigint);
    }
    if (printed === 0 && !follow) io.err('no events matched\n');
    return 0;
  },
};

/** Every directory event, oldest first (by the time each one shows). */
async function readDirectory(nc: Parameters<ConnectionWork<void>>[0], signal: AbortSignal): Promise<AuditRecord[]> {
  const records: AuditRecord[] = [];
  await readAudit(nc, { stream: PKI_STREAM, filterSubject: subjects.allPki, signal }, (m) => {
    records.push({ ...describeAuditMessage(m.seq, m.subject, m.data, m.storedAt), stream: 'pki' });
  });
  return records.sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
}

function auditReadOptions(filter: RecordFilter, follow: boolean, signal: AbortSignal): Parameters<typeof readAudit>[1] {
  return {
    filterSubject: filter.taskId ? subjects.taskAggregate(filter.taskId) : subjects.allEvents,
    startTimeMs: filter.sinceMs === undefined ? undefined : filter.sinceMs - SEEK_MARGIN_MS,
    follow,
    signal,
  };
}

/** from/to of the tasks seen so far, so a TaskExpired written before it carried its parties can show (and match --app on) them. */
type Parties = Map<string, { from: string; to: string[] }>;

function withParties(described: AuditRecord, parties: Parties): AuditRecord {
  const record: AuditRecord = { ...described, stream: 'audit' };
  if (record.type === 'TaskCreated' && record.taskId && record.from && record.to) parties.set(record.taskId, { from: record.from, to: record.to });
  if (record.type === 'TaskExpired' && record.taskId && !record.from) {
    const p = parties.get(record.taskId);
    if (p) Object.assign(record, { from: p.from, to: p.to });
  }
  return record;
}
