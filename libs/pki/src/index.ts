/** @beamline/pki — the CA and enrolment: CA directory, CSRs, signing, CA-signed BEAM_PKI events, the directory. No Nest. */
export * from './errors';
export * from './serial';
export * from './ca-dir';
export * from './enroll';
export * from './sign';
export * from './ca-signature';
export * from './publish';
export * from './intermediates';
export * from './directory';
export * from './directory-loader';
