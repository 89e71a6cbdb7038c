export * from './error-status';
export * from './error.filter';
export * from './body';
export * from './listen';
export * from './log-levels';
export * from './http-app';
export * from './sse';
export * from './http-server';
