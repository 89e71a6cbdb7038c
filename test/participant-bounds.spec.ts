/**
 * A participant (an enrolled proxy, an app with an API key) is not a trusted party: every size it controls
 * is bounded before any work is done, and what one participant sends leaves the others unharmed.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { CompactSign } from 'jose';
import { request as httpRequest, type ClientRequest } from 'node:http';
import {
  BODY_DIGEST_HEADER,
  generateRsaKeyPair,
  macRequest,
  MESSAGE_JWS_TYP,
  REQUEST_AUTH_SCHEME,
  REQUEST_JWS_TYP,
  requestBodyDigest,
  signMessage,
  signRequest,
  unwrapSessionKey,
} from '@beamline/crypto';
import { join } from 'node:path';
import { rawUpgrade, startHttpService } from '@beamline/devnet';
import { EventLog, connectNats, subjects } from '@beamline/nats';
import type { NatsConnection } from '@nats-io/nats-core';
import { newTask } from './support/app-client';
import { rawRequest } from './support/hostile';
import { APP1, APP2, startTestNetwork, type TestNetwork } from './support/network';
import { isAlive, rssMb, withPeakRss } from './support/processes';
import { proxySigner, sendRaw, signed, type ProxySigner } from './support/proxy-signer';

let t: TestNetwork;
let proxy1: ProxySigner;
let nc: NatsConnection;

beforeAll(async () => {
  t = await startTestNetwork();
  proxy1 = proxySigner(t.net, 0);
  nc = await connectNats(t.net.natsUrl, 'participant-bounds-spec');
}, 120_000);

afterAll(async () => {
  await nc?.close();
  await t?.net.stop();
});

const brokerPort = () => Number(new URL(t.net.brokerUrl).port);
const deep = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A request signature exactly like the proxy's, but with the nonce we choose. */
async function signedWithNonce(nonce: string, pathAndQuery: string): Promise<string> {
  const claims = { iss: proxy1.proxyId, m: 'GET', p: pathAndQuery, d: '47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU', t: Date.now(), n: nonce };
  const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
    .setProtectedHeader({ alg: 'PS256', kid: proxy1.kid, typ: REQUEST_JWS_TYP })
    .sign(proxy1.privateKey);
  return `${REQUEST_AUTH_SCHEME} ${jws}`;
}

/**
 * A signed socket request as the initiator proxy would send it, with the fields we choose; `metadataJson`
 * is spliced in as text (a 6,000-level document is more than this process's JSON.stringify can write).
 */
async function socketRequestMessage(fields: { ttl?: string; metadataJson?: string }): Promise<{ id: string; message: string }> {
  const id = randomUUID();
  const request = { id, from: APP1, to: [APP2], ttl: fields.ttl ?? '60s', eph: randomBytes(32).toString('base64url') };
  const text = `${JSON.stringify(request).slice(0, -1)},"metadata":${fields.metadataJson ?? 'null'}}`;
  const message = await new CompactSign(new TextEncoder().encode(text))
    .setProtectedHeader({ alg: 'PS256', kid: proxy1.kid, typ: MESSAGE_JWS_TYP })
    .sign(proxy1.privateKey);
  return { id, message };
}

async function postSocketRequest(message: string): Promise<{ status: number; json: unknown }> {
  return sendRaw(t.net.brokerUrl, await signed(proxy1, { method: 'POST', pathAndQuery: '/v1/sockets', body: JSON.stringify({ message }) }));
}

describe('request authentication', () => {
  it('refuses a 6,000-character nonce with 400 before it reaches NATS, and another tenant keeps writing', async () => {
    const path = `/v1/tasks?filter=todo&beam_app=${APP1}`;
    const started = Date.now();
    const answers = await Promise.all(
      Array.from({ length: 45 }, async () => {
        const authorization = await signedWithNonce('n'.repeat(6_000), path);
        const res = await fetch(t.net.brokerUrl + path, { headers: { authorization } });
        return { status: res.status, json: (await res.json()) as { error: string; message: string } };
      }),
    );
    for (const a of answers) {
      expect(a.status).toBe(400);
      expect(a.json).toEqual({ error: 'malformed', message: 'request signature nonce: expected 22 to 64 base64url characters' });
    }
    expect(Date.now() - started).toBeLessThan(5_000);
    // broker-api kept its NATS connection: the other tenant's write is acknowledged at once.
    const before = Date.now();
    expect((await t.app2.postTask(newTask(APP2, [APP1]))).status).toBe(201);
    expect(Date.now() - before).toBeLessThan(2_000);
    expect(t.net.services.get('broker-api')!.recentLogs()).not.toMatch(/maximum control line/i);
  });

  it('still takes a nonce of the size proxies send', async () => {
    const path = `/v1/tasks?filter=todo&beam_app=${APP1}`;
    const res = await fetch(t.net.brokerUrl + path, { headers: { authorization: await signedWithNonce(randomBytes(16).toString('base64url'), path) } });
    expect(res.status).toBe(200);
  });
});

describe('recipients', () => {
  it('answers a task to 10,000 recipients with 400 naming to in under a second, while health answers at once', async () => {
    const to = Array.from({ length: 10_000 }, (_, i) => `app${i}.proxy2.broker`);
    const sealed = {
      v: 2,
      id: randomUUID(),
      from: APP1,
      to,
      encrypted: 'AAAA',
      encryption_keys: to.map(() => 'AAAA'),
      key_commitment: 'AAAA',
      failure_strategy: 'discard',
      ttl: '60s',
      created: Date.now(),
      metadata: null,
      digest: 'x',
    };
    const message = await signMessage(sealed, proxy1.privateKey, proxy1.kid);
    const request = await signed(proxy1, { method: 'POST', pathAndQuery: '/v1/tasks', body: JSON.stringify({ message }) });

    let posting = true;
    const healthTimes: number[] = [];
    const probing = (async () => {
      while (posting) {
        const at = Date.now();
        await fetch(`${t.net.brokerUrl}/v1/health`).then((r) => r.arrayBuffer());
        healthTimes.push(Date.now() - at);
      }
    })();
    const started = Date.now();
    const res = await sendRaw(t.net.brokerUrl, request);
    const took = Date.now() - started;
    posting = false;
    await probing;

    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error: 'too_many_recipients', message: 'to: at most 1000 recipients, got 10000' });
    expect(took).toBeLessThan(1_000);
    expect(healthTimes.length).toBeGreaterThan(0);
    // A broker that verified or projected the 10,000 recipients before refusing would stall health for
    // most of `took`; 250 ms leaves room for a busy shared machine without hiding such a stall.
    expect(Math.max(...healthTimes)).toBeLessThan(250);
  });

  it('refuses an app task to 1,001 recipients at the proxy with 400 naming to, before sealing anything', async () => {
    const to = Array.from({ length: 1_001 }, (_, i) => `app${i}.proxy2.broker`);
    const res = await t.app1.postTask(newTask(APP1, to));
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error: 'too_many_recipients', message: 'to: at most 1000 recipients, got 1001' });
  });
});

describe('socket requests', () => {
  it('refuses metadata nested 6,000 levels deep at the proxy (400 too_deep)', async () => {
    const res = await rawUpgrade(t.app1.proxyUrl, 'POST', `/v1/sockets/${APP2}`, APP1, { Upgrade: 'tcp', Connection: 'Upgrade', metadata: deep(6_000) });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'too_deep' });
  });

  it('refuses a signed socket request with deep metadata at the broker (400 too_deep)', async () => {
    const { message } = await socketRequestMessage({ metadataJson: deep(6_000) });
    const res = await postSocketRequest(message);
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error: 'too_deep' });
  });

  it.each(['8d', '0s'])('refuses a socket request with ttl %s like a task (400 naming ttl)', async (ttl) => {
    const { message } = await socketRequestMessage({ ttl });
    const res = await postSocketRequest(message);
    expect(res.status).toBe(400);
    expect((res.json as { message: string }).message).toMatch(/^ttl: /);
  });

  it('keeps listing sockets when a deep request from before these bounds is still in the log', async () => {
    const poisoned = await socketRequestMessage({ metadataJson: deep(6_000) });
    const now = Date.now();
    await new EventLog(nc).append(subjects.socketCreated(poisoned.id), {
      type: 'SocketRequested',
      v: 1,
      socketId: poisoned.id,
      from: APP1,
      to: [APP2],
      message: poisoned.message,
      receivedAt: now,
      expiresAt: now + 60_000,
    });
    const fine = await socketRequestMessage({ metadataJson: '{"purpose":"still listed"}' });
    expect((await postSocketRequest(fine.message)).status).toBe(201);

    const res = await t.app2.get('/v1/sockets');
    expect(res.status).toBe(200);
    const ids = (res.json as Array<{ id: string }>).map((s) => s.id);
    expect(ids).toContain(fine.id);
    expect(ids).not.toContain(poisoned.id);
  });
});

describe('paths', () => {
  it('answers an upgrade to /v1/sockets/%ZZ with 400 at the proxy', async () => {
    const res = await rawUpgrade(t.app1.proxyUrl, 'GET', '/v1/sockets/%ZZ', APP1);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'invalid_input' });
  });

  it('answers an upgrade to /v1/sockets/%ZZ with 400 at the broker', async () => {
    const authorization = await signRequest({ method: 'GET', pathAndQuery: '/v1/sockets/%ZZ' }, proxy1);
    const res = await rawRequest(
      brokerPort(),
      `GET /v1/sockets/%ZZ HTTP/1.1\r\nHost: broker\r\nUpgrade: tcp\r\nConnection: Upgrade\r\nAuthorization: ${authorization}\r\n\r\n`,
    );
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text)).toMatchObject({ error: 'invalid_input' });
  });
});

describe('request bodies', () => {
  const MiB = 1024 * 1024;

  it('never buffers the body of a request whose headers do not authenticate: 8 uploads of 29 MB leave RSS within 50 MB', async () => {
    const impostor = { ...proxy1, privateKey: generateRsaKeyPair(2048).privateKey };
    const body = Buffer.alloc(29 * MiB, 'x');
    const brokerApi = t.net.services.get('broker-api')!;
    const before = rssMb(brokerApi.pid);
    const { value: statuses, peaks } = await withPeakRss(t.net, () =>
      Promise.all(
        Array.from({ length: 8 }, async () => {
          // Signed with a key that is not the certificate's: refused on the headers alone.
          const authorization = await signRequest({ method: 'POST', pathAndQuery: '/v1/tasks', body }, impostor);
          // The broker answers 401 before reading the body and then closes the connection; a client still
          // uploading may see that close (EPIPE, ECONNRESET) instead of the answer. Either way it was refused.
          const res = await fetch(`${t.net.brokerUrl}/v1/tasks`, {
            method: 'POST',
            headers: { authorization, 'content-type': 'application/json' },
            body,
          }).catch((err: Error & { cause?: { code?: string } }) => {
            if (err.cause?.code === 'EPIPE' || err.cause?.code === 'ECONNRESET') return undefined;
            throw err;
          });
          if (!res) return 'closed while uploading';
          await res.arrayBuffer();
          return res.status;
        }),
      ),
    );
    expect(statuses.filter((s) => s !== 401 && s !== 'closed while uploading')).toEqual([]);
    expect(isAlive(brokerApi.pid)).toBe(true); // a close means a refusal, not a crash
    console.log(`broker-api RSS: ${before} MB before, peak ${peaks['broker-api']} MB during 8 unauthenticated 29 MB uploads`);
    expect(peaks['broker-api'] - before).toBeLessThan(50);
  });

  it('refuses a session request with a body but no Beam-Body-Digest before reading the body', async () => {
    const grant = (await sendRaw(t.net.brokerUrl, await signed(proxy1, { method: 'POST', pathAndQuery: '/v1/sessions' }))).json as {
      session_id: string;
      wrapped_key: string;
    };
    const session = { id: grant.session_id, key: unwrapSessionKey(grant.wrapped_key, proxy1.privateKey) };
    const body = JSON.stringify({ message: 'x.y.z' });
    const req = { method: 'POST', pathAndQuery: '/v1/tasks', body };
    const without = await fetch(`${t.net.brokerUrl}/v1/tasks`, {
      method: 'POST',
      headers: { authorization: macRequest(req, session), 'content-type': 'application/json' },
      body,
    });
    expect(without.status).toBe(400);
    expect(await without.json()).toEqual({ error: 'malformed', message: `${BODY_DIGEST_HEADER}: required on a session request with a body` });
    // The digest the MAC binds must be the body's: a different body is refused once read.
    const other = await fetch(`${t.net.brokerUrl}/v1/tasks`, {
      method: 'POST',
      headers: { authorization: macRequest(req, session), [BODY_DIGEST_HEADER]: requestBodyDigest(body), 'content-type': 'application/json' },
      body: body.replace('x.y.z', 'a.b.c'),
    });
    expect(other.status).toBe(401);
    expect(await other.json()).toMatchObject({ error: 'digest_mismatch' });
  });

  it('answers 429 to a proxy beyond its concurrent uploads, while another proxy uploads', async () => {
    const declared = Buffer.alloc(4 * MiB, 'y');
    const held: ClientRequest[] = [];
    /** Starts an upload of `declared` that sends 1 KiB and then waits; resolves with the status if the broker answers. */
    const slowUpload = async (signer: ProxySigner): Promise<{ answered: Promise<number> }> => {
      const authorization = await signRequest({ method: 'POST', pathAndQuery: '/v1/tasks', body: declared }, signer);
      const url = new URL(`${t.net.brokerUrl}/v1/tasks`);
      const req = httpRequest({
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path: '/v1/tasks',
        headers: { authorization, 'content-length': declared.length, 'content-type': 'application/json' },
      });
      held.push(req);
      const answered = new Promise<number>((resolve) => {
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', () => resolve(-1));
      });
      req.write(declared.subarray(0, 1024));
      return { answered };
    };
    try {
      const first8 = await Promise.all(Array.from({ length: 8 }, () => slowUpload(proxy1)));
      await sleep(500); // all eight are reading their bodies now
      const ninth = await slowUpload(proxy1);
      expect(await ninth.answered).toBe(429);
      const proxy2 = proxySigner(t.net, 1);
      const small = JSON.stringify({ message: 'x.y.z' });
      const other = await sendRaw(t.net.brokerUrl, await signed(proxy2, { method: 'POST', pathAndQuery: '/v1/tasks', body: small }));
      expect(other.status).toBe(400); // read and judged: not refused for proxy1's uploads
      for (const upload of first8) expect(await Promise.race([upload.answered, sleep(50).then(() => 'still uploading')])).toBe('still uploading');
    } finally {
      for (const req of held) req.destroy();
    }
  });
});

describe('waiting clients', () => {
  /** A long-poll by `app` at `baseUrl` that waits up to 30 s (until aborted); resolves with its answer. */
  function longPoll(baseUrl: string, app: string, path: string, signal: AbortSignal, authorization = `ApiKey ${app} App1Secret`) {
    return fetch(`${baseUrl}${path}`, { headers: { authorization }, signal }).then(
      async (res) => ({ status: res.status, retryAfter: res.headers.get('retry-after'), json: (await res.json()) as unknown }),
      () => ({ status: -1, retryAfter: null, json: 'aborted' as unknown }),
    );
  }

  it('answers the 101st long-poll of one app with 429 and Retry-After, while other apps and later polls go on', async () => {
    const stop = new AbortController();
    const proxyUrl = t.app1.proxyUrl;
    const todo = '/v1/tasks?filter=todo&wait_count=1000&wait_time=30s';
    try {
      const hundred = Array.from({ length: 100 }, () => longPoll(proxyUrl, APP1, todo, stop.signal));
      await sleep(1_000); // all hundred are waiting now
      const extra = await longPoll(proxyUrl, APP1, todo, new AbortController().signal);
      expect(extra.status).toBe(429);
      expect(extra.retryAfter).toBe('1');
      expect(extra.json).toEqual({
        error: 'too_many_waiting',
        message: `waiting: ${APP1} already has 100 long-polls or event streams open (MAX_WAITING_PER_APP=100)`,
      });
      // Another app of the same proxy waits as usual.
      const other = await longPoll(proxyUrl, 'app2.proxy1.broker', '/v1/tasks?filter=todo&wait_count=1000&wait_time=1s', new AbortController().signal);
      expect(other.status).toBe(206);
      // A request that does not wait is not counted.
      expect((await t.app1.get('/v1/tasks?filter=todo')).status).toBe(200);
      stop.abort();
      await Promise.all(hundred);
    } finally {
      stop.abort();
    }
    // The slots are free again once the polls ended.
    await sleep(200);
    expect((await longPoll(proxyUrl, APP1, '/v1/tasks?filter=todo&wait_count=1000&wait_time=1s', new AbortController().signal)).status).toBe(206);
  });

  it('answers a proxy beyond MAX_WAITING_PER_PROXY at a broker-api replica with 429, and counts each proxy on its own', async () => {
    const replica = await startHttpService({
      name: 'broker-api-capped',
      script: join(__dirname, '..', 'dist', 'apps', 'broker-api', 'src', 'main.js'),
      env: {
        NATS_URL: t.net.natsUrl,
        BROKER_ID: 'broker',
        ROOTCERT_FILE: t.net.pki.rootCertFile,
        SESSION_SECRET: t.net.sessionSecret,
        LOG_LEVEL: 'warn',
        MAX_WAITING_PER_PROXY: '3',
      },
      healthPath: '/v1/health',
    });
    const stop = new AbortController();
    try {
      const wait = async (signer: ProxySigner, app: string, waitTime: string, signal: AbortSignal) => {
        const path = `/v1/tasks?beam_app=${app}&filter=todo&wait_count=1000&wait_time=${waitTime}`;
        return longPoll(replica.url, app, path, signal, await signRequest({ method: 'GET', pathAndQuery: path }, signer));
      };
      const three = [0, 1, 2].map(() => wait(proxy1, APP1, '30s', stop.signal));
      await sleep(1_000);
      const fourth = await wait(proxy1, APP1, '30s', new AbortController().signal);
      expect(fourth.status).toBe(429);
      expect(fourth.json).toMatchObject({ error: 'too_many_waiting', message: expect.stringContaining('MAX_WAITING_PER_PROXY=3') });
      const proxy2 = proxySigner(t.net, 1);
      expect((await wait(proxy2, APP2, '1s', new AbortController().signal)).status).toBe(206);
      stop.abort();
      await Promise.all(three);
    } finally {
      stop.abort();
      await replica.stop();
    }
  });
});
