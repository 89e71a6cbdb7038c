/** Opens one direct socket between two apps through their proxies, with @beamline/client, as apps do it. */
import type { Socket } from 'node:net';
import { BeamClient } from '@beamline/client';
import type { AppClient } from './app-client';

export interface SocketPair {
  id: string;
  initiator: Socket;
  recipient: Socket;
}

/** `from` (at `from.proxyUrl`) opens a socket to `to` (at `to.proxyUrl`); `to` finds it in its listing and connects. */
export async function openSocketPair(from: AppClient, to: AppClient, metadata?: unknown): Promise<SocketPair> {
  const initiatorApp = new BeamClient(from.appId, from.key, from.proxyUrl);
  const recipientApp = new BeamClient(to.appId, to.key, to.proxyUrl);
  const initiating = initiatorApp.createSocket(to.appId, { metadata });
  initiating.catch(() => undefined);
  let id: string | undefined;
  for (let i = 0; i < 20 && !id; i++) {
    const mine = (await recipientApp.listSockets({ waitCount: 1, waitTimeMs: 5_000 })).filter((s) => s.from === from.appId);
    id = mine[mine.length - 1]?.id;
  }
  if (!id) throw new Error('socket request never listed');
  const recipient = await recipientApp.connectSocket(id);
  return { id, initiator: await initiating, recipient };
}
