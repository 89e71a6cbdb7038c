/** `beamline file <send|list|receive>`: files between apps through their Beam proxies, on @beamline/client. */
import type { Command } from '../command';
import { processDeps, type FileDeps } from './file-common';
import { fileList } from './file-list';
import { fileReceive } from './file-receive';
import { fileSend } from './file-send';
import { commandGroup } from './pki-common';

const usage = (names: string): string => `Usage: beamline file <subcommand> [options]

Files between apps, store-and-forward (a Beamline addition to the Beam app API): the sender's proxy seals a
file end to end as it streams in and keeps it until its time to live; each recipient lists and downloads it.
Every subcommand acts as one app at its proxy: --proxy-url, --app-id and --app-key, or $BEAM_PROXY_URL,
$BEAM_APP_ID and $BEAM_APP_KEY.

Subcommands:
${names}

Example (the demo network, "beamline demo"):
  export BEAM_APP_KEY=App1Secret
  beamline file send scan.tar.gz --to app2.proxy2.broker --proxy-url http://localhost:8081 --app-id app1.proxy1.broker
  beamline file list --wait-count 1 --wait-time 30s --proxy-url http://localhost:8082 --app-id app2.proxy2.broker
  beamline file receive <id> --out scan.tar.gz --proxy-url http://localhost:8082 --app-id app2.proxy2.broker

Run "beamline file <subcommand> --help" for its options.
`;

/** The command with its own stdin, stdout, stderr and environment (tests pass theirs). */
export function fileCommandWith(deps: FileDeps): Command {
  const subcommands = [fileSend(deps), fileList(deps), fileReceive(deps)];
  const names = subcommands.map((s) => `  ${s.name.padEnd(8)} ${s.summary}`).join('\n');
  return commandGroup('file', 'send, list and receive files between apps (via a Beam proxy)', usage(names), subcommands);
}

export const fileCommand: Command = fileCommandWith(processDeps());
