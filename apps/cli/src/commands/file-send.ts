import { statSync } from 'node:fs';
import { jsonForTerminal } from '@beamline/audit';
import { ByteProgress, clientOf, CONNECTION_HELP, CONNECTION_OPTIONS, type FileDeps } from './file-common';
import { optionalString, UsageError, type ParsedArgs, type PkiSubcommand } from './pki-common';

const USAGE = `Usage: beamline file send <path> --to APP[,APP...] [--ttl 1d] [--metadata JSON] [--json]

Sends a file to one or more apps through the app's Beam proxy (POST /v1/files, a Beamline addition): the
proxy seals it end to end as it streams in and keeps it until its time to live; the recipients find it with
"beamline file list" and fetch it with "beamline file receive". The file is streamed, never read into memory
whole. <path> "-" sends standard input (it cannot be sent again after a failure mid-way; a file can).

Prints the file's id on stdout (with --json: {"id", "expiresAt"}). On a terminal, a progress line on stderr.

Options:
  --to APP[,APP...]      the recipients' app ids, e.g. app2.proxy2.broker (comma-separated, or repeat --to)
  --ttl DURATION         how long the file is kept, e.g. 30m, 12h, 7d (default: the proxy's, 1d)
  --metadata JSON        any JSON, sent unencrypted for the recipients to see in their listing
  --json                 print {"id", "expiresAt"} instead of the id
${CONNECTION_HELP}
Exit codes: 0 sent, 1 failed (e.g. 413 file_too_large, 424: a recipient's proxy has no certificate), 2 usage error.

Example:
  BEAM_PROXY_URL=http://localhost:8081 BEAM_APP_ID=app1.proxy1.broker BEAM_APP_KEY=App1Secret \\
    beamline file send scan.tar.gz --to app2.proxy2.broker --ttl 2d --metadata '{"name":"scan.tar.gz"}'
`;

function recipientsOf(args: ParsedArgs): string[] {
  const given = args.values.to as unknown as string[] | undefined;
  const to = (given ?? []).flatMap((v) => v.split(',')).map((v) => v.trim());
  if (to.length === 0) throw new UsageError('--to is required: the recipients, e.g. --to app2.proxy2.broker');
  if (to.some((r) => r === '')) throw new UsageError('--to: an empty app id');
  return to;
}

function metadataOf(args: ParsedArgs): unknown {
  const text = optionalString(args, 'metadata');
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new UsageError(`--metadata must be JSON, got ${JSON.stringify(text)}`);
  }
}

/** The size of a regular file to send, for the progress line; a missing file is a usage error. */
function sizeOf(path: string): number | undefined {
  if (path === '-') return undefined;
  try {
    const info = statSync(path);
    if (info.isDirectory()) throw new UsageError(`${path} is a directory`);
    return info.isFile() ? info.size : undefined;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

export function fileSend(deps: FileDeps): PkiSubcommand {
  return {
    name: 'send',
    summary: 'send a file to apps (streamed, end-to-end encrypted)',
    usage: USAGE,
    options: {
      ...CONNECTION_OPTIONS,
      to: { type: 'string', multiple: true },
      ttl: { type: 'string' },
      metadata: { type: 'string' },
      json: { type: 'boolean' },
    },
    positionals: [1, 1],
    async run(args, io) {
      const path = args.positionals[0];
      const to = recipientsOf(args);
      const ttl = optionalString(args, 'ttl');
      const metadata = metadataOf(args);
      const client = await clientOf(args, deps);
      const size = sizeOf(path);
      const progress = new ByteProgress(`sending ${path === '-' ? 'stdin' : path}`, size, deps.stderr, deps.progressIntervalMs);
      let sent;
      try {
        sent = await client.sendFile(to, path === '-' ? deps.stdin : path, { ttl, metadata, onProgress: (n) => progress.update(n) });
      } finally {
        progress.done();
      }
      io.out(args.values.json === true ? `${jsonForTerminal(sent)}\n` : `${sent.id}\n`);
      return 0;
    },
  };
}
