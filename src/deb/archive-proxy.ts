// The archive through an HTTP proxy, as curl and apt use one: an http:// URL is asked of the proxy
// as an absolute URI (RFC 9112 §3.2.2), an https:// URL through a CONNECT tunnel (RFC 9110 §9.3.6)
// with TLS to the archive itself; no_proxy read as curl reads it. Only http:// proxies are spoken to.
import { isIP } from 'node:net';
import { ElfpackError } from '../errors.js';
import { describeNetError } from '../net-errors.js';

type Agent = import('node:http').Agent;
type Duplex = import('node:stream').Duplex;

/** The proxies to use, as URLs ("http://user:pass@host:3128"); what curl's http_proxy, https_proxy and no_proxy say. */
export interface ProxyOptions {
  /** For http:// URLs. */
  http?: string;
  /** For https:// URLs (a CONNECT tunnel through it). */
  https?: string;
  /** Hosts reached directly: names or domain suffixes (leading dot optional), IP literals, optional :port; "*" for all. Comma or space separated. */
  noProxy?: string;
  /**
   * Per archive host (lower case), apt.conf's Acquire::http::Proxy::HOST and
   * Acquire::https::Proxy::HOST: a proxy URL, or "DIRECT" for none. It wins over `http`/`https`;
   * no_proxy still wins over it, as in apt.
   */
  perHost?: { http?: Record<string, string>; https?: Record<string, string> };
  /** Where `http` and `https` were set, for messages ("the environment", "/etc/apt/apt.conf.d/01proxy"). */
  from?: { http?: string; https?: string };
}

/** The proxy URL `target` is reached through, or undefined for a direct connection. */
export function proxyUrlFor(target: URL, p: ProxyOptions | undefined): string | undefined {
  if (!p || bypassesProxy(target, p.noProxy)) return undefined;
  const scheme = target.protocol === 'https:' ? 'https' : 'http';
  const specific = p.perHost?.[scheme]?.[target.hostname.replace(/^\[|\]$/g, '').toLowerCase()];
  if (specific !== undefined) return specific === 'DIRECT' ? undefined : specific;
  return p[scheme];
}

/** A proxy server, parsed. */
export interface ProxyServer {
  host: string;
  port: number;
  /** The Proxy-Authorization header value, from the URL's user and password. */
  authorization?: string;
  /** The URL without credentials, for messages. */
  shown: string;
}

/** The largest header block of a proxy's answer to CONNECT (Node's own default bound, said here). */
export const MAX_CONNECT_HEADER_BYTES = 16 << 10;

/**
 * A proxy URL, checked: `name` says where it came from in messages ("https_proxy"). Without a
 * scheme it is http://, as curl takes it; without a port, 80, as apt takes it (curl assumes 1080).
 * Credentials never appear in a message.
 */
export function parseProxyUrl(value: string, name: string): ProxyServer {
  let u: URL;
  try {
    u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`);
  } catch {
    throw new ElfpackError('USAGE', `${name}: not a proxy URL (http://[user:password@]host:port)`, { step: 'deb-proxy' });
  }
  const shown = `${u.protocol}//${u.host}`;
  if (u.protocol !== 'http:') throw new ElfpackError('USAGE', `${name}=${shown}: only an http:// proxy is supported (https goes through it by CONNECT)`, { step: 'deb-proxy' });
  if (!u.hostname) throw new ElfpackError('USAGE', `${name}: a proxy URL names a host`, { step: 'deb-proxy' });
  const credentials = u.username || u.password ? `${decode(u.username)}:${decode(u.password)}` : undefined;
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: Number(u.port || 80),
    ...(credentials !== undefined ? { authorization: `Basic ${Buffer.from(credentials).toString('base64')}` } : {}),
    shown,
  };
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s; // a stray "%" is taken as it is, as curl does
  }
}

/** The proxies in one line, without credentials ("http via http://p:3128, https via http://p:3128; not for .corp"). */
export function describeProxies(p: ProxyOptions | undefined): string | undefined {
  const from = (s: 'http' | 'https') => (p?.from?.[s] ? ` (from ${p.from[s]})` : '');
  const parts = (['http', 'https'] as const).filter((s) => p?.[s]).map((s) => `${s} via ${parseProxyUrl(p![s]!, `the ${s} proxy`).shown}${from(s)}`);
  const hosts = (['http', 'https'] as const).flatMap((s) => Object.entries(p?.perHost?.[s] ?? {}).map(([h, v]) =>
    `${s}://${h} ${v === 'DIRECT' ? 'direct' : `via ${parseProxyUrl(v, `the ${s} proxy for ${h}`).shown}`}`));
  if (!parts.length && !hosts.length) return undefined;
  const exempt = p?.noProxy?.split(/[\s,]+/).filter(Boolean) ?? [];
  return [parts.join(', '), hosts.length ? `per host (apt.conf): ${hosts.join(', ')}` : '', exempt.length ? `not for ${exempt.join(', ')}` : ''].filter(Boolean).join('; ');
}

/**
 * Whether `target` is reached directly by no_proxy, as curl matches it: "*" is every host; a name
 * matches itself and its subdomains ("example.com" and ".example.com" both match
 * deb.example.com and example.com); an IP literal matches that address only (no CIDR ranges); a
 * ":port" limits an entry to that port. Case and a trailing dot of a name do not matter.
 */
export function bypassesProxy(target: URL, noProxy: string | undefined): boolean {
  if (!noProxy) return false;
  const host = canonicalHost(target.hostname.replace(/^\[|\]$/g, ''));
  const port = target.port || (target.protocol === 'https:' ? '443' : '80');
  for (const entry of noProxy.split(/[\s,]+/)) {
    if (!entry) continue;
    if (entry === '*') return true;
    const m = /^\[([^\]]*)\](?::(\d+))?$/.exec(entry) ?? (entry.split(':').length > 2 ? [entry, entry, undefined] : /^([^:]*)(?::(\d+))?$/.exec(entry));
    if (!m) continue;
    if (m[2] !== undefined && m[2] !== port) continue;
    const name = canonicalHost(m[1].replace(/^\./, ''));
    if (!name) continue;
    if (isIP(name) || isIP(host)) {
      if (name === host) return true;
    } else if (host === name || host.endsWith(`.${name}`)) return true;
  }
  return false;
}

/** Lower case, no trailing dot; an IPv6 literal in its canonical form (so "::1" and "0::1" are one). */
function canonicalHost(h: string): string {
  const s = h.toLowerCase().replace(/\.$/, '');
  if (isIP(s) !== 6) return s;
  try {
    return new URL(`http://[${s}]/`).hostname.slice(1, -1);
  } catch {
    return s;
  }
}

/** A tunnel the proxy refused (`answered`) or could not open: its message is whole (it names the proxy). */
export class ProxyTunnelError extends Error {
  constructor(message: string, readonly answered = false) {
    super(message);
  }
}

/**
 * An https agent whose connections are CONNECT tunnels through `proxy`, TLS then spoken through
 * them to the archive (SNI and the certificate check are the archive's, from the request).
 * Keep-alive pools tunnels per archive host as Node's own agent pools sockets. `tls` holds the
 * agent's TLS options (a CA for tests); setting up a tunnel is bounded by `timeoutMs`.
 */
export async function tunnelAgent(proxy: ProxyServer, timeoutMs: number, tlsOptions: { ca?: string | Buffer | (string | Buffer)[] }): Promise<Agent> {
  const [http, https, tls] = await Promise.all([import('node:http'), import('node:https'), import('node:tls')]);
  class TunnelAgent extends https.Agent {
    // Node's Agent takes the socket from the callback when createConnection returns nothing.
    override createConnection(options: import('node:https').RequestOptions, done?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
      const host = String(options.host ?? 'localhost');
      const port = Number(options.port ?? 443);
      openTunnel(http, proxy, host, port, timeoutMs).then(
        (socket) => done!(null, tls.connect({ ...(options as import('node:tls').ConnectionOptions), socket })),
        (err: Error) => done!(err, undefined as unknown as Duplex),
      );
      return undefined;
    }
  }
  return new TunnelAgent({ keepAlive: true, maxSockets: 4, ...tlsOptions });
}

/** CONNECT host:port through the proxy: the raw socket once it answers 2xx. */
function openTunnel(http: typeof import('node:http'), proxy: ProxyServer, host: string, port: number, timeoutMs: number): Promise<Duplex> {
  const authority = `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
  const what = `the proxy ${proxy.shown}: CONNECT ${authority}`;
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: proxy.host, port: proxy.port, method: 'CONNECT', path: authority, agent: false, maxHeaderSize: MAX_CONNECT_HEADER_BYTES,
      headers: { host: authority, ...(proxy.authorization ? { 'proxy-authorization': proxy.authorization } : {}) },
    });
    // Our own deadline: the GET's may fire first, but this tunnel must not outlive it unbounded.
    const timer = setTimeout(() => req.destroy(new ProxyTunnelError(`${what}: no answer in ${timeoutMs / 1000} s`)), timeoutMs);
    req.on('connect', (res, socket, head) => {
      clearTimeout(timer);
      const status = res.statusCode ?? 0;
      if (status < 200 || status > 299) {
        socket.destroy();
        return reject(new ProxyTunnelError(`${what}: refused with ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}`, true));
      }
      if (head.length) socket.unshift(head); // bytes past the answer are the archive's
      resolve(socket);
    });
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err instanceof ProxyTunnelError ? err : new ProxyTunnelError(`${what}: ${describeNetError(err)}`));
    });
    req.end();
  });
}
