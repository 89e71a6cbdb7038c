/** `beamline pki <init|enroll|sign|revoke|intermediate|list>`: the CA and enrolment, on @beamline/pki. */
import type { Command } from '../command';
import { commandGroup, type PkiSubcommand } from './pki-common';
import { pkiEnroll } from './pki-enroll';
import { pkiInit } from './pki-init';
import { pkiIntermediate } from './pki-intermediate';
import { pkiList } from './pki-list';
import { pkiRevoke } from './pki-revoke';
import { pkiSign } from './pki-sign';

export const pkiSubcommands: readonly PkiSubcommand[] = [pkiInit, pkiEnroll, pkiSign, pkiRevoke, pkiIntermediate, pkiList];

const USAGE = `Usage: beamline pki <subcommand> [options]

The certificate authority and proxy enrolment. The CA's directory of certificates is the BEAM_PKI stream;
every event in it is signed by the CA.

Subcommands:
${pkiSubcommands.map((s) => `  ${s.name.padEnd(12)} ${s.summary}`).join('\n')}

Enrolling a proxy:
  CA:    beamline pki init --ca-dir ca                         (once)
  site:  beamline pki enroll --proxy-id proxy1.broker --key-file proxy1.priv.pem > proxy1.csr.pem
  CA:    beamline pki sign proxy1.csr.pem --proxy-id proxy1.broker --ca-dir ca --nats-url nats://…

Rotating the intermediate CA (with overlap: nothing stops working):
  CA:    beamline pki intermediate new --ca-dir ca             then re-enrol proxies with "pki sign"
  CA:    beamline pki intermediate retire OLD-SERIAL --ca-dir ca

Run "beamline pki <subcommand> --help" for its options.
`;

export const pkiCommand: Command = commandGroup('pki', 'certificate authority: init, enroll, sign, revoke, intermediate, list', USAGE, pkiSubcommands);
