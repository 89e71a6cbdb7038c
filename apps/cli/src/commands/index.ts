import type { Command } from '../command';
import { auditCommand } from './audit';
import { demoCommand } from './demo';
import { fileCommand } from './file';
import { natsCertsCommand } from './nats-certs';
import { natsClusterCommand } from './nats-cluster';
import { pkiCommand } from './pki';
import { brokerApiCommand, brokerStoreCommand, proxyCommand } from './services';

/** Every `beamline` subcommand, in the order `beamline --help` lists them. */
export const commands: readonly Command[] = [
  proxyCommand,
  brokerApiCommand,
  brokerStoreCommand,
  demoCommand,
  natsClusterCommand,
  natsCertsCommand,
  pkiCommand,
  auditCommand,
  fileCommand,
];
