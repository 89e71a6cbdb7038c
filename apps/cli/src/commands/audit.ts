/** `beamline audit <replay|verify>`: the audit trail (BEAM_AUDIT), on @beamline/audit. */
import type { Command } from '../command';
import { auditReplay } from './audit-replay';
import { auditVerify } from './audit-verify';
import { commandGroup, type PkiSubcommand } from './pki-common';

export const auditSubcommands: readonly PkiSubcommand[] = [auditReplay, auditVerify];

const USAGE = `Usage: beamline audit <subcommand> [options]

The audit trail: broker-store copies every task and socket event of BEAM_EVENTS to the BEAM_AUDIT stream,
which keeps them for the audit retention (default 30 days), also after tasks expired and were purged from the
live log; the certificate directory (BEAM_PKI, CA-signed) has no age limit and is read beside it. Every task
event holds the sender's signed message verbatim; bodies are sealed.

Subcommands:
${auditSubcommands.map((s) => `  ${s.name.padEnd(7)} ${s.summary}`).join('\n')}

Examples:
  beamline audit replay --since 1h --task 70c0aa90-bfcf-4312-a6af-42cbd57dc0b8
  beamline audit verify --root-cert root.crt.pem --nats-url nats://nats.example.org:4222

Run "beamline audit <subcommand> --help" for its options.
`;

export const auditCommand: Command = commandGroup('audit', 'audit trail: replay events, verify signatures', USAGE, auditSubcommands);
