/** The Nest token of the process's one NATS connection; only libs/nats resolves it (nats.module.ts, nats-provider.ts). */
export const NATS_CONNECTION = Symbol('NATS_CONNECTION');
