import { createWriteStream, existsSync, statSync, truncateSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BeamFileDownload } from '@beamline/client';
import { ByteProgress, clientOf, CONNECTION_HELP, CONNECTION_OPTIONS, type FileDeps } from './file-common';
import { integerOption, optionalString, UsageError, type PkiSubcommand } from './pki-common';

const USAGE = `Usage: beamline file receive <id> [--out PATH] [--offset N]

Downloads a file offered to the app (GET /v1/files/<id>; the ids come from "beamline file list") to PATH,
or to stdout (which must not be a terminal). The proxy checks every part of the file against what its sender
signed: a download it had to stop is resumed from the first missing byte, and one that cannot be completed
fails (exit 1) — it never ends early as if the file were whole. The file stays offered until it expires;
receiving it again is fine.

With --offset N the download starts at byte N: with --out, the bytes go to PATH from byte N on and the first
N bytes already in PATH are kept — so "--offset <size of the partial copy>" completes an interrupted receive
(the error message names the offset). On a terminal, a progress line on stderr.

Options:
  --out PATH             write the file here (created, or overwritten from byte N with --offset N)
  --offset N             start at byte N (default 0)
${CONNECTION_HELP}
Exit codes: 0 received whole, 1 failed (404: not offered to this app, expired or deleted), 2 usage error.

Example:
  beamline file receive 5b8f2d4e-3c1a-4f6b-9e7d-2a1c0b9f8e7d --out scan.tar.gz
`;

/** Refuses a target that cannot work, before anything is downloaded. */
function checkTarget(out: string | undefined, offset: number, deps: FileDeps): void {
  if (out === undefined && deps.stdout.isTTY) throw new UsageError('stdout is a terminal: give --out PATH, or redirect stdout');
  if (out !== undefined && offset > 0 && !(existsSync(out) && statSync(out).size >= offset)) {
    throw new UsageError(`--offset ${offset}: ${out} does not hold the first ${offset} bytes`);
  }
}

/** Where the bytes go: PATH from `offset` on (keeping the bytes before it, dropping any after), else stdout. */
function openTarget(out: string | undefined, offset: number, deps: FileDeps): { stream: Writable; end: boolean } {
  if (out === undefined) return { stream: deps.stdout, end: false };
  if (offset === 0) return { stream: createWriteStream(out), end: true };
  truncateSync(out, offset);
  return { stream: createWriteStream(out, { flags: 'r+', start: offset }), end: true };
}

/** The error of an incomplete receive, with the offset to go on from. */
function incomplete(err: unknown, out: string | undefined, download: BeamFileDownload): Error {
  const message = err instanceof Error ? err.message : String(err);
  if (out === undefined) return new Error(`${message} (received ${download.bytesReceived} of ${download.size} bytes)`, { cause: err });
  const have = existsSync(out) ? statSync(out).size : 0;
  return new Error(`${message}; ${out} holds the first ${have} of ${download.size} bytes: go on with --offset ${have} --out ${out}`, { cause: err });
}

export function fileReceive(deps: FileDeps): PkiSubcommand {
  return {
    name: 'receive',
    summary: 'download a file offered to the app (resumable)',
    usage: USAGE,
    options: { ...CONNECTION_OPTIONS, out: { type: 'string' }, offset: { type: 'string' } },
    positionals: [1, 1],
    async run(args) {
      const id = args.positionals[0];
      const out = optionalString(args, 'out');
      const offset = integerOption(args, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
      const client = await clientOf(args, deps);
      checkTarget(out, offset, deps);
      const download = await client.downloadFile(id, { offset });
      const progress = new ByteProgress(`receiving ${id}`, download.size, deps.stderr, deps.progressIntervalMs);
      const timer = deps.stderr.isTTY ? setInterval(() => progress.update(download.bytesReceived), Math.max(10, deps.progressIntervalMs)) : undefined;
      try {
        const target = openTarget(out, offset, deps);
        await pipeline(download, target.stream, { end: target.end });
      } catch (err) {
        download.destroy();
        throw incomplete(err, out, download);
      } finally {
        clearInterval(timer);
        progress.done();
      }
      return 0;
    },
  };
}
