/**
 * How the proxy leaves the site's network, as its environment says: the HTTP proxies (`HTTPS_PROXY`,
 * `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`, each also in lower case, which wins as in curl and undici) and the extra
 * CAs of `TLS_CA_CERTIFICATES_DIR` (Samply.Beam's name). Parsed once with the rest of the config; `egress.ts`
 * turns them into connections.
 */
import { X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The variables that name an HTTP proxy or its exceptions, as the schema declares them (upper case). */
export const PROXY_VARIABLES = ['HTTPS_PROXY', 'HTTP_PROXY', 'ALL_PROXY', 'NO_PROXY'] as const;

export interface ExtraCa {
  file: string;
  /** Each certificate's subject, for the start-up log line. */
  subjects: string[];
  /** The file's certificates, PEM. */
  pems: string[];
}

export interface EgressSettings {
  httpsProxy?: URL;
  httpProxy?: URL;
  allProxy?: URL;
  /** `NO_PROXY` entries, lower case: `*`, `host`, `.domain`, `*.domain`, each optionally `:port`. */
  noProxy: string[];
  /** Trusted in addition to Node's bundled CAs on every connection to the broker and to an https:// proxy. */
  extraCas: ExtraCa[];
  /** The directory they came from, for the log. */
  caDir?: string;
}

/** The environment with each proxy variable's lower-case spelling (which wins) folded into the upper-case name. */
export function withProxyVariables(env: Readonly<Record<string, string | undefined>>): Record<string, string | undefined> {
  const folded: Record<string, string | undefined> = { ...env };
  for (const name of PROXY_VARIABLES) folded[name] = env[name.toLowerCase()] || env[name];
  return folded;
}

/** An HTTP proxy's URL; without a scheme it is `http://` (as curl reads it). SOCKS proxies are refused. */
export function proxyUrlText(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw.includes('://') ? raw : `http://${raw}`);
  } catch {
    // The value may hold a password: it is never repeated.
    throw new Error('not a URL such as http://proxy.example.org:3128');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`only http:// and https:// proxies are supported (CONNECT), got ${url.protocol}//`);
  }
  return url;
}

export function noProxyText(raw: string): string[] {
  return raw
    .toLowerCase()
    .split(/[,\s]+/)
    .filter((entry) => entry !== '');
}

/**
 * Every certificate in the non-hidden files of `dir` (PEM; a file may hold several). A file without one is
 * refused, so a misplaced file is noticed at start-up rather than as a failed handshake later.
 */
export function caDirText(dir: string): ExtraCa[] {
  const names = readdirSync(dir)
    .filter((name) => !name.startsWith('.'))
    .sort();
  const cas: ExtraCa[] = [];
  for (const name of names) {
    const file = join(dir, name);
    if (!statSync(file).isFile()) continue;
    const pems = readFileSync(file, 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    if (pems.length === 0) throw new Error(`${file} holds no PEM certificate`);
    const subjects = pems.map((pem) => {
      try {
        return new X509Certificate(pem).subject.replace(/\n/g, ', ');
      } catch {
        throw new Error(`${file} holds a certificate that does not parse`);
      }
    });
    cas.push({ file, subjects, pems: pems.map((pem) => `${pem}\n`) });
  }
  return cas;
}

/** A proxy URL as it may be logged: scheme, host and port, never the credentials. */
export function redactedProxy(url: URL): string {
  return `${url.protocol}//${url.host}${url.username || url.password ? ' (with credentials)' : ''}`;
}

/**
 * The proxy to reach `target` through, or undefined to connect directly: `NO_PROXY` first (`*` is every host;
 * `example.org`, `.example.org` and `*.example.org` are that domain and its subdomains; `:port` narrows an
 * entry to one port), then the scheme's own variable, then `ALL_PROXY`. Like undici's `EnvHttpProxyAgent`.
 */
export function proxyFor(target: URL, s: EgressSettings): { url: URL; variable: string } | undefined {
  if (bypassesProxy(target, s.noProxy)) return undefined;
  const own = target.protocol === 'https:' ? { url: s.httpsProxy, variable: 'HTTPS_PROXY' } : { url: s.httpProxy, variable: 'HTTP_PROXY' };
  if (own.url) return { url: own.url, variable: own.variable };
  return s.allProxy ? { url: s.allProxy, variable: 'ALL_PROXY' } : undefined;
}

function bypassesProxy(target: URL, noProxy: string[]): boolean {
  const host = target.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  const port = Number(target.port || (target.protocol === 'https:' ? 443 : 80));
  return noProxy.some((entry) => {
    if (entry === '*') return true;
    // `host:port`, `[v6]:port`, or a bare IPv6 address (several colons, no port).
    const m = /^\[(.*)\](?::(\d+))?$/.exec(entry) ?? /^([^:]+)(?::(\d+))?$/.exec(entry) ?? [entry, entry, undefined];
    if (m[2] !== undefined && Number(m[2]) !== port) return false;
    const domain = m[1].replace(/^\*?\./, '');
    return host === domain || host.endsWith(`.${domain}`);
  });
}
