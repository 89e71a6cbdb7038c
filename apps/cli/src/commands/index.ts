import type { Command } from '../command';
import { demoCommand } from './demo';
import { pkiCommand } from './pki';

/** Every `beamline` subcommand, in the order `beamline --help` lists them. */
export const commands: readonly Command[] = [demoCommand, pkiCommand];
