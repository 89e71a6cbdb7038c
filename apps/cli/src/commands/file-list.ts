import { escapeControls, jsonForTerminal } from '@beamline/audit';
import type { FileInfo } from '@beamline/client';
import { clientOf, CONNECTION_HELP, CONNECTION_OPTIONS, durationOption, formatBytes, type FileDeps } from './file-common';
import { integerOption, type PkiSubcommand } from './pki-common';

const USAGE = `Usage: beamline file list [--wait-count N] [--wait-time 30s] [--json]

Lists the files offered to the app (GET /v1/files): one line each — id, sender, size, expiry and metadata.
Without wait options it answers at once; with them it waits, like a task long-poll, until N files are there
or the wait time is over (whichever comes first), and lists what there is either way. Everything printed
comes from the network: control characters are shown escaped; --json escapes them as \\uNNNN, losslessly.

Options:
  --wait-count N         wait until at least N files are offered
  --wait-time DURATION   wait at most this long, e.g. 500ms, 30s, 5m (alone: until the first file)
  --json                 print the JSON array [{id, from, to, size, metadata, expiresAt}] instead
${CONNECTION_HELP}
Exit codes: 0 listed (also when there are none; a note goes to stderr), 1 failed, 2 usage error.

Example:
  beamline file list --wait-count 1 --wait-time 30s --proxy-url http://localhost:8082 --app-id app2.proxy2.broker
`;

function table(files: FileInfo[]): string {
  const rows = [
    ['ID', 'FROM', 'SIZE', 'EXPIRES', 'METADATA'],
    ...files.map((f) => [f.id, f.from, formatBytes(f.size), f.expiresAt, f.metadata === null ? '' : JSON.stringify(f.metadata)]),
  ].map((row) => row.map((cell) => escapeControls(String(cell))));
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ')).join('\n') + '\n';
}

export function fileList(deps: FileDeps): PkiSubcommand {
  return {
    name: 'list',
    summary: 'list the files offered to the app',
    usage: USAGE,
    options: { ...CONNECTION_OPTIONS, 'wait-count': { type: 'string' }, 'wait-time': { type: 'string' }, json: { type: 'boolean' } },
    positionals: [0, 0],
    async run(args, io) {
      const waitCount = args.values['wait-count'] === undefined ? undefined : integerOption(args, 'wait-count', 0, 0, 1_000_000);
      const waitTimeMs = durationOption(args, 'wait-time');
      const files = await (await clientOf(args, deps)).listFiles({ waitCount, waitTimeMs });
      if (args.values.json === true) {
        io.out(`${jsonForTerminal(files)}\n`);
        return 0;
      }
      if (files.length === 0) io.err('no files are offered to this app\n');
      else io.out(table(files));
      return 0;
    },
  };
}
