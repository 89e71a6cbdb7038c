/** Opens one direct socket between two apps through their proxies, as apps do it. */
import type { Socket } from 'node:net';
import { AppClient } from './app-client';
import { rawUpgrade } from '@beamline/devnet';

export interface SocketPair {
  id: string;
  initiator: Socket;
  recipient: Socket;
}

/** `from` (at `from.proxyUrl`) opens a socket to `to` (at `to.proxyUrl`); `to` finds it in its listing and connects. */
export async function openSocketPair(from: AppClient, to: AppClient, metadata?: unknown): Promise<SocketPair> {
  const headers: Record<string, string> = { Upgrade: 'tcp', Connection: 'Upgrade' };
  if (metadata !== undefined) headers.metadata = JSON.stringify(metadata);
  const initiating = rawUpgrade(from.proxyUrl, 'POST', `/v1/sockets/${to.appId}`, from.appId, headers);
  initiating.catch(() => undefined);
  let id: string | undefined;
  for (let i = 0; i < 20 && !id; i++) {
    const listing = await to.get('/v1/sockets?wait_count=1&wait_time=5s');
    const mine = (listing.json as Array<{ id: string; from: string }>).filter((s) => s.from === from.appId);
    id = mine[mine.length - 1]?.id;
  }
  if (!id) throw new Error('socket request never listed');
  const recipient = await rawUpgrade(to.proxyUrl, 'GET', `/v1/sockets/${id}`, to.appId);
  if (recipient.status !== 101) throw new Error(`recipient got ${recipient.status}: ${JSON.stringify(recipient.body)}`);
  const initiator = await initiating;
  if (initiator.status !== 101) throw new Error(`initiator got ${initiator.status}: ${JSON.stringify(initiator.body)}`);
  return { id, initiator: initiator.socket, recipient: recipient.socket };
}
