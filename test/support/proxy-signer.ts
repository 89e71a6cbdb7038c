/** Speaks to broker-api as a proxy would, with a dev network proxy's real key: for attack tests. */
import { readFileSync } from 'node:fs';
import { privateKeyFromPem, signRequest, type RequestToSign } from '@beamline/crypto';
import type { DevNetwork } from '@beamline/devnet';
import type { KeyObject } from 'node:crypto';

export interface ProxySigner {
  privateKey: KeyObject;
  kid: string;
  proxyId: string;
}

export function proxySigner(net: DevNetwork, index: number): ProxySigner {
  const p = net.pki.proxies[index];
  return { privateKey: privateKeyFromPem(readFileSync(p.keyFile, 'utf8')), kid: p.serial, proxyId: p.id };
}

export interface RawRequest extends RequestToSign {
  authorization: string;
}

export async function signed(signer: ProxySigner, req: RequestToSign, now?: number): Promise<RawRequest> {
  return { ...req, authorization: await signRequest(req, signer, now) };
}

/** Sends exactly the given request (same path, body and Authorization) to a broker. */
export async function sendRaw(brokerUrl: string, req: RawRequest): Promise<{ status: number; json: unknown }> {
  const res = await fetch(brokerUrl + req.pathAndQuery, {
    method: req.method,
    headers: { authorization: req.authorization, ...(req.body ? { 'content-type': 'application/json' } : {}) },
    body: req.body as string | undefined,
  });
  const text = await res.text();
  let json: unknown;
  try {
    // A listing answers with event lines (libs/http event-lines.ts): the items are every line but the end.
    json = String(res.headers.get('content-type')).includes('ndjson')
      ? {
          items: text
            .split('\n')
            .filter((l) => l !== '')
            .map((l) => JSON.parse(l) as object)
            .filter((l) => !('end' in l)),
        }
      : JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json };
}
