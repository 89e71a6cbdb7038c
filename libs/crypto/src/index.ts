/** @beamline/crypto — sealing, message signatures, request authentication, certificates and the CA. */
export * from './errors';
export * from './keys';
export * from './xchacha';
export * from './seal';
export * from './digest';
export * from './jws';
export * from './request-auth';
export * from './x509';
export * from './rsa-key-policy';
export * from './session-auth';
export * from './socket-frames';
export * from './socket-handshake';
export * from './file-seal';
