/**
 * Beamline's version, from the repository's `package.json` (the one named `beamline`), found by walking up
 * from this file: `libs/http/src` in the sources and `dist/libs/http/src` when built, so the built services
 * read the same file. Shown in `/v1/health`, the start-up log line and the `Beamline-Version` header.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Logger } from '@nestjs/common';

/** Sent by the proxy on every request to the broker, and by the broker on every answer. */
export const VERSION_HEADER = 'beamline-version';

let cached: string | undefined;

export function beamlineVersion(): string {
  cached ??= readVersion(__dirname);
  return cached;
}

function readVersion(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'beamline' && typeof pkg.version === 'string') return pkg.version;
    }
    if (dirname(dir) === dir) return 'unknown';
  }
}

/**
 * Warns once per peer and version when a peer runs another Beamline version than this process: the proxy
 * about the broker (its answers' `Beamline-Version`), the broker about each proxy (its requests').
 */
export class VersionWatch {
  private readonly seen = new Set<string>();
  private readonly logger = new Logger('Version');

  constructor(private readonly mine: string = beamlineVersion()) {}

  /** `peer` names the other side in the warning (e.g. `broker`, `proxy proxy1.broker`); true when the versions differ. */
  check(peer: string, theirs: string | string[] | undefined): boolean {
    const version = Array.isArray(theirs) ? theirs[0] : theirs;
    if (version === undefined || version === this.mine) return false;
    // Bounded: a peer that sends ever new values must not grow this set without end.
    const key = `${peer}\0${version.slice(0, 64)}`;
    if (!this.seen.has(key) && this.seen.size < 1_000) {
      this.seen.add(key);
      this.logger.warn({ peer, peerVersion: version.slice(0, 64), version: this.mine }, `${peer} runs Beamline ${version.slice(0, 64)}, this ${this.mine}`);
    }
    return true;
  }
}
