/**
 * What a network start has brought up so far, so a failure half-way, or the network's stop(), stops exactly
 * that, in reverse order, reporting every failure to stop.
 */
import { join } from 'node:path';
import { startHttpService, startService, type HttpServiceHandle, type ServiceHandle } from './service';

export type LaunchedApp = 'broker-api' | 'broker-store' | 'proxy';

export class Launch {
  readonly services = new Map<string, ServiceHandle>();
  private readonly cleanups: (() => Promise<void> | void)[] = [];

  constructor(
    private readonly distDir: string,
    private readonly log: boolean,
  ) {}

  /** Runs `cleanup` on stop, before everything registered earlier. */
  onStop(cleanup: () => Promise<void> | void): void {
    this.cleanups.push(cleanup);
  }

  async stop(): Promise<void> {
    const errors: unknown[] = [];
    for (const cleanup of this.cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, 'dev network did not stop cleanly');
  }

  /** A built app without an HTTP endpoint (broker-store). */
  async service(name: string, app: LaunchedApp, env: Record<string, string>): Promise<ServiceHandle> {
    return this.track(await startService({ name, script: this.scriptOf(app), env, log: this.log }));
  }

  /** A built app that is ready once it reported its address and its /v1/health answers 200. */
  async http(name: string, app: LaunchedApp, env: Record<string, string>, port: number | undefined): Promise<HttpServiceHandle> {
    return this.track(await startHttpService({ name, script: this.scriptOf(app), env, port, healthPath: '/v1/health', log: this.log }));
  }

  private scriptOf(app: LaunchedApp): string {
    return join(this.distDir, 'apps', app, 'src', 'main.js');
  }

  private track<S extends ServiceHandle>(service: S): S {
    this.services.set(service.name, service);
    this.onStop(() => service.stop());
    return service;
  }
}
