/**
 * What a network start has brought up so far, so a failure half-way, or the network's stop(), stops exactly
 * that, in reverse order, reporting every failure to stop.
 */
import { join } from 'node:path';
import { startHttpService, type HttpServiceHandle, type ServiceHandle } from './service';

export type LaunchedApp = 'broker-api' | 'broker-store' | 'proxy';

export class Launch {
  readonly services = new Map<string, ServiceHandle>();
  private readonly cleanups: (() => Promise<void> | void)[] = [];

  constructor(
    private readonly distDir: string,
    private readonly log: boolean,
    /** Where each service's whole output goes, as `<name>.log` (DevNetworkOptions.logDir). */
    private readonly logDir?: string,
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

  /**
   * A built app that is ready once it reported its address and its /v1/health answers 200. broker-store's
   * listener (metrics and health) takes its address in `METRICS_ADDR`, and opens once the store replayed the log.
   */
  async http(name: string, app: LaunchedApp, env: Record<string, string>, port: number | undefined): Promise<HttpServiceHandle> {
    const store = app === 'broker-store';
    return this.track(
      await startHttpService({
        name,
        script: this.scriptOf(app),
        env,
        port,
        healthPath: '/v1/health',
        log: this.log,
        ...(this.logDir !== undefined ? { logFile: join(this.logDir, `${name}.log`) } : {}),
        ...(store ? { bindVariable: 'METRICS_ADDR', readyTimeoutMs: 120_000 } : {}),
      }),
    );
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
