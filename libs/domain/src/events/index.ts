export * from './task-events';
export * from './socket-events';
export * from './pki-events';
export * from './file-events';
