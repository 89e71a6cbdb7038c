/** `beamline pki <init|enroll|sign|revoke|list>`: the CA and enrolment, on @beamline/pki. */
import type { CliIo, Command } from '../command';
import { wantsHelp } from '../command';
import { oneLine, parse, UsageError, type PkiSubcommand } from './pki-common';
import { pkiEnroll } from './pki-enroll';
import { pkiInit } from './pki-init';
import { pkiList } from './pki-list';
import { pkiRevoke } from './pki-revoke';
import { pkiSign } from './pki-sign';

export const pkiSubcommands: readonly PkiSubcommand[] = [pkiInit, pkiEnroll, pkiSign, pkiRevoke, pkiList];

const USAGE = `Usage: beamline pki <subcommand> [options]

The certificate authority and proxy enrolment. The CA's directory of certificates is the BEAM_PKI stream;
every event in it is signed by the CA.

Subcommands:
${pkiSubcommands.map((s) => `  ${s.name.padEnd(7)} ${s.summary}`).join('\n')}

Enrolling a proxy:
  CA:    beamline pki init --ca-dir ca                         (once)
  site:  beamline pki enroll --proxy-id proxy1.broker --key-file proxy1.priv.pem > proxy1.csr.pem
  CA:    beamline pki sign proxy1.csr.pem --proxy-id proxy1.broker --ca-dir ca --nats-url nats://…

Run "beamline pki <subcommand> --help" for its options.
`;

export const pkiCommand: Command = {
  name: 'pki',
  summary: 'certificate authority: init, enroll, sign, revoke, list',
  usage: USAGE,
  async run(args: string[], io: CliIo): Promise<number> {
    const [name, ...rest] = args;
    if (name === undefined) {
      io.err(USAGE);
      return 2;
    }
    if (name === 'help' || name === '--help' || name === '-h') {
      const topic = pkiSubcommands.find((s) => s.name === rest[0]);
      io.out(topic ? topic.usage : USAGE);
      return 0;
    }
    const sub = pkiSubcommands.find((s) => s.name === name);
    if (!sub) {
      io.err(`beamline pki: unknown subcommand "${name}"\n\n${USAGE}`);
      return 2;
    }
    if (wantsHelp(rest)) {
      io.out(sub.usage);
      return 0;
    }
    try {
      return await sub.run(parse(sub, rest), io);
    } catch (err) {
      if (err instanceof UsageError) {
        io.err(`beamline pki ${sub.name}: ${err.message}\n\n${sub.usage}`);
        return 2;
      }
      io.err(`beamline pki ${sub.name}: ${oneLine(err)}\n`);
      return 1;
    }
  },
};
