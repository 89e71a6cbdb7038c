/** Dev-network tooling: real nats-server and app processes for tests and `beamline demo`. No Nest. */
export * from './nats-server';
export * from './service';
export * from './dev-pki';
export * from './dev-network';
export * from './nats-cluster';
export * from './nats-tls';
export * from './nats-auth';
export * from './round-robin';
export * from './app-sockets';
export * from './bulk-tasks';
