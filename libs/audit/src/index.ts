/** @beamline/audit — reading, describing and verifying the BEAM_AUDIT stream; what the expiry sweeper asks before a purge. No Nest. */
export * from './source-watermark';
export * from './records';
export * from './audit-reader';
export * from './verify';
export * from './time-spec';
export * from './terminal-text';
export * from './audit-copy';
export * from './audit-progress';
export * from './audit-copy-session';
