/** What an operator with NATS write access, or an enrolled proxy, can make of messages it has seen: for attack tests. */
import { constants, createPublicKey, publicEncrypt, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { signMessage, xchachaEncrypt } from '@beamline/crypto';
import type { DevNetwork } from '@beamline/devnet';
import type { ProxySigner } from './proxy-signer';
import { sendRaw, signed } from './proxy-signer';

/** The signed payload of a compact JWS, unverified. */
export function payloadOf(jws: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jws.split('.')[1], 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** The public key of dev network proxy `index`'s certificate. */
export function proxyKey(net: DevNetwork, index: number): KeyObject {
  return createPublicKey(net.pki.proxies[index].certPem);
}

/**
 * A task in message format 1, as proxies sealed them before issue 13: no `v`, no `created`, no key commitment,
 * the AEAD with empty associated data and the key wrapped with an empty OAEP label.
 */
export function formatOneTask(from: string, to: string[], body: string, keys: KeyObject[]): Record<string, unknown> {
  const key = randomBytes(32);
  const nonce = randomBytes(24);
  return {
    id: randomUUID(),
    from,
    to,
    encrypted: Buffer.concat([nonce, xchachaEncrypt(key, nonce, Buffer.from(body, 'utf8'))]).toString('base64'),
    encryption_keys: keys.map((pub) => publicEncrypt({ key: pub, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, key).toString('base64')),
    failure_strategy: 'discard',
    ttl: '60s',
    metadata: null,
    digest: 'x',
  };
}

/** Signs `payload` as `signer` and posts it to broker-api as that proxy would; the broker's answer. */
export async function postSigned(brokerUrl: string, signer: ProxySigner, payload: object): Promise<{ status: number; json: unknown }> {
  const body = JSON.stringify({ message: await signMessage(payload, signer.privateKey, signer.kid) });
  return sendRaw(brokerUrl, await signed(signer, { method: 'POST', pathAndQuery: '/v1/tasks', body }));
}
