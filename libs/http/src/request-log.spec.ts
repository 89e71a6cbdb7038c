import 'reflect-metadata';
import { Controller, Get, Module, Param, Req, Res } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Request, Response } from 'express';
import { Unauthenticated } from '@beamline/domain';
import { abortOnClose, startHttpApp } from './http-app';
import { acceptableRequestId } from './request-log';
import { beamlineVersion } from './version';

@Controller('v1')
class ItemsController {
  @Get('items/:id')
  item(@Param('id') id: string, @Req() req: Request & { app_id?: string }): { id: string } {
    req.app_id = 'app1.proxy1.broker';
    return { id };
  }

  @Get('secret')
  secret(): never {
    throw new Unauthenticated('Authorization: unknown app or wrong key');
  }

  @Get('slow')
  async slow(@Req() req: Request, @Res() res: Response): Promise<void> {
    const signal = abortOnClose(res);
    await new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))));
    res.json({ late: true });
    void req;
  }
}

@Module({ controllers: [ItemsController] })
class ItemsModule {}

describe('request logging', () => {
  let app: NestExpressApplication;
  let base: string;
  const lines: string[] = [];
  const entries = (): Array<Record<string, unknown>> => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

  beforeAll(async () => {
    app = await startHttpApp(ItemsModule, {
      service: 'test',
      bind: { host: '127.0.0.1', port: 0 },
      bodyLimitBytes: 1024,
      logLevel: 'debug',
      logFormat: 'json',
      logDestination: { write: (line: string) => lines.push(...line.split('\n').filter(Boolean)) },
      callerOf: (req) => ({ app: (req as Request & { app_id?: string }).app_id }),
    });
    base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  });
  afterAll(async () => {
    if (process.env.SHOW_LOGS) console.log(lines.join('\n'));
    await app.close();
  });

  const accessLineOf = async (requestId: string): Promise<Record<string, unknown>> => {
    for (let i = 0; i < 50; i++) {
      const line = entries().find((e) => e.reqId === requestId && e.route !== undefined);
      if (line) return line;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no access line for ${requestId}:\n${lines.join('\n')}`);
  };

  it('writes JSON lines: a start-up line with the version, and the listening line', () => {
    expect(entries()[0]).toMatchObject({ level: 'info', service: 'test', version: beamlineVersion(), msg: `test ${beamlineVersion()} starting` });
    expect(entries().some((e) => typeof e.msg === 'string' && e.msg.startsWith('listening on http://127.0.0.1:'))).toBe(true);
  });

  it('keeps a well-formed X-Request-Id, answers with it, and writes one access line with route, status, duration and caller', async () => {
    const res = await fetch(`${base}/v1/items/42?x=1`, { headers: { 'x-request-id': 'abc-123.def' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('abc-123.def');
    expect(res.headers.get('beamline-version')).toBe(beamlineVersion());
    const line = await accessLineOf('abc-123.def');
    expect(line).toMatchObject({ level: 'info', method: 'GET', route: '/v1/items/:id', path: '/v1/items/42', status: 200, app: 'app1.proxy1.broker' });
    expect(typeof line.durationMs).toBe('number');
    expect(entries().filter((e) => e.reqId === 'abc-123.def' && e.route !== undefined)).toHaveLength(1);
  });

  it('replaces a malformed or oversized request id with a new one', async () => {
    for (const bad of ['a b', 'x'.repeat(129), 'é', '<script>']) {
      const res = await fetch(`${base}/v1/items/1`, { headers: { 'x-request-id': encodeURIComponent(bad) === bad ? bad : 'a\tb' } });
      const id = res.headers.get('x-request-id');
      expect(id).not.toBe(bad);
      expect(acceptableRequestId(id ?? undefined)).toBe(id);
    }
    const res = await fetch(`${base}/v1/items/1`);
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('logs a refused authentication with its reason, and never the credentials', async () => {
    const res = await fetch(`${base}/v1/secret`, { headers: { authorization: 'ApiKey app1.proxy1.broker TopSecretKey42', 'x-request-id': 'auth-1' } });
    expect(res.status).toBe(401);
    await accessLineOf('auth-1');
    const refused = entries().find((e) => e.reqId === 'auth-1' && e.reason !== undefined);
    expect(refused).toMatchObject({ level: 'warn', reason: 'unauthenticated', context: 'HTTP' });
    expect(String(refused?.msg)).toContain('authentication refused');
    expect(lines.join('\n')).not.toContain('TopSecretKey42');
  });

  it('logs a client that goes away at debug, not as an error', async () => {
    const aborted = new AbortController();
    const pending = fetch(`${base}/v1/slow`, { headers: { 'x-request-id': 'gone-1' }, signal: aborted.signal }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 200));
    aborted.abort();
    await pending;
    const line = await accessLineOf('gone-1');
    expect(line).toMatchObject({ level: 'debug', completed: false });
    await new Promise((r) => setTimeout(r, 100));
    const forIt = entries().filter((e) => e.reqId === 'gone-1');
    expect(forIt.filter((e) => e.level !== 'debug')).toEqual([]);
    expect(lines.join('\n')).not.toMatch(/"level":"error"/);
  });
});
