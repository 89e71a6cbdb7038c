import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { startHttpApp } from './http-app';
import { listeningLine } from './listening';

@Controller()
class PingController {
  @Get('ping')
  ping(): { pong: true } {
    return { pong: true };
  }
}

@Module({ controllers: [PingController] })
class PingModule {}

describe('startHttpApp', () => {
  let app: NestExpressApplication | undefined;
  const savedLogLevel = process.env.LOG_LEVEL;

  beforeAll(() => {
    process.env.LOG_LEVEL = 'error';
  });
  afterAll(() => {
    if (savedLogLevel === undefined) delete process.env.LOG_LEVEL;
    else process.env.LOG_LEVEL = savedLogLevel;
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('asked for port 0, prints the port the OS gave it and answers there', async () => {
    const written: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      app = await startHttpApp(PingModule, {
        service: 'test',
        logFormat: 'pretty',
        logLevel: 'error',
        bind: { host: '127.0.0.1', port: 0 },
        bodyLimitBytes: 1024,
      });
    } finally {
      write.mockRestore();
    }
    const announced = written
      .join('')
      .split('\n')
      .filter((l) => l.startsWith('listening on '));
    expect(announced).toHaveLength(1);
    const match = /^listening on http:\/\/127\.0\.0\.1:(\d+)$/.exec(announced[0]);
    expect(match).not.toBeNull();
    const port = Number(match![1]);
    expect(port).toBeGreaterThan(0);
    expect(port).toBe((app.getHttpServer().address() as { port: number }).port);
    const res = await fetch(`http://127.0.0.1:${port}/ping`);
    expect(await res.json()).toEqual({ pong: true });
  });
});

describe('startHttpApp with JSON logs', () => {
  it('writes the start-up line with the version and the listening line even at LOG_LEVEL=error', async () => {
    const lines: string[] = [];
    const app = await startHttpApp(PingModule, {
      service: 'test',
      logFormat: 'json',
      logLevel: 'error',
      logDestination: { write: (l: string) => lines.push(...l.split('\n').filter(Boolean)) },
      bind: { host: '127.0.0.1', port: 0 },
      bodyLimitBytes: 1024,
    });
    try {
      const entries = lines.map((l) => JSON.parse(l) as { msg: string; version?: string });
      const port = (app.getHttpServer().address() as { port: number }).port;
      expect(entries.map((e) => e.msg)).toEqual([expect.stringMatching(/^test \S+ starting$/), `listening on http://127.0.0.1:${port}`]);
      expect(entries.every((e) => typeof e.version === 'string')).toBe(true);
    } finally {
      await app.close();
    }
  });
});

describe('listeningLine', () => {
  it('brackets IPv6 hosts so the URL parses', () => {
    const line = listeningLine({ address: '::1', family: 'IPv6', port: 8081 });
    expect(line).toBe('listening on http://[::1]:8081');
    expect(new URL(line.slice('listening on '.length)).port).toBe('8081');
  });

  it('refuses a pipe or an unbound server', () => {
    expect(() => listeningLine('/tmp/app.sock')).toThrow(/expected a TCP address/);
    expect(() => listeningLine(null)).toThrow(/expected a TCP address/);
  });
});
