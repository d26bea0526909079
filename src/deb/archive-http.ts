// GET from a Debian archive over Node's http and https, bounded: a deadline that restarts whenever
// bytes move, at most MAX_REDIRECTS hops (never from https to http, as apt refuses), a size limit
// on every answer; large files stream to disk through a temporary name, hashed on the way. An
// http or https proxy is used as curl uses one (archive-proxy.ts), decided again at each redirect.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { ElfpackError } from '../errors.js';
import { describeNetError } from '../net-errors.js';
import { writeFileAtomically } from '../temp-files.js';
import { ELFPACK_VERSION } from '../version.js';
import { parseProxyUrl, proxyUrlFor, ProxyTunnelError, tunnelAgent, type ProxyOptions, type ProxyServer } from './archive-proxy.js';

/** Hops after which a chain of redirects is an error (a mirror redirector needs one or two). */
export const MAX_REDIRECTS = 5;
/** How long a GET may go without progress by default (connecting, waiting, receiving). */
export const DEFAULT_TIMEOUT_MS = 30_000;

type Get = typeof import('node:http').get;
type Agent = import('node:http').Agent;
type Answer = import('node:http').IncomingMessage;
type IncomingHttpHeaders = import('node:http').IncomingHttpHeaders;

export interface DownloadCheck {
  /** The largest answer accepted. */
  maxBytes: number;
  /** Expected size and SHA256 (hex): the file is kept only when both match. */
  size?: number;
  sha256?: string;
}

export interface ArchiveHttpOptions {
  /** Proxies, as curl's http_proxy, https_proxy and no_proxy say; default none. */
  proxy?: ProxyOptions;
  /** The CAs https trusts instead of Node's bundled ones (a test's self-signed archive); default Node's. */
  ca?: string | Buffer | (string | Buffer)[];
}

/**
 * Node's own http and https clients, not undici: they are part of Node's startup snapshot, where
 * loading undici costs a warm `elfpack deb` 60 ms, a tenth of its run (docs/performance.md).
 * One keep-alive agent per scheme: the .debs of a plan come over one or two connections.
 */
export class ArchiveHttp {
  private clients = new Map<string, { get: Get; agent: Agent }>();
  private proxies = new Map<string, ProxyServer>();
  private tls: { ca?: ArchiveHttpOptions['ca'] };

  constructor(private timeoutMs = DEFAULT_TIMEOUT_MS, private opts: ArchiveHttpOptions = {}) {
    // Checked up front: a bad proxy URL is a usage error before any request.
    const p = opts.proxy;
    if (p?.http) parseProxyUrl(p.http, 'the http proxy');
    if (p?.https) parseProxyUrl(p.https, 'the https proxy');
    this.tls = opts.ca ? { ca: opts.ca } : {};
  }

  /** The proxy for `url` (proxyUrlFor: per host, per scheme, no_proxy), parsed once per URL. */
  private proxyFor(url: URL): ProxyServer | undefined {
    const u = proxyUrlFor(url, this.opts.proxy);
    if (u === undefined) return undefined;
    let p = this.proxies.get(u);
    if (!p) this.proxies.set(u, p = parseProxyUrl(u, `the proxy for ${url.host}`));
    return p;
  }

  /**
   * One keep-alive agent per scheme and route: direct; http through the proxy (absolute-URI
   * requests, pooled to the proxy); https through CONNECT tunnels (pooled per archive host).
   */
  private async client(protocol: string, proxy: ProxyServer | undefined): Promise<{ get: Get; agent: Agent }> {
    // Per-host proxies (apt.conf) may name several: one agent per proxy and its credentials.
    const key = `${protocol}${proxy ? ` ${proxy.shown} ${proxy.authorization ?? ''}` : ''}`;
    let c = this.clients.get(key);
    if (!c) {
      const mod = protocol === 'https:' ? await import('node:https') : await import('node:http');
      const agent = protocol === 'https:' && proxy
        ? await tunnelAgent(proxy, this.timeoutMs, this.tls)
        : new mod.Agent({ keepAlive: true, maxSockets: 4, ...(protocol === 'https:' ? this.tls : {}) });
      c = { get: mod.get as Get, agent };
      this.clients.set(key, c);
    }
    return c;
  }

  async close(): Promise<void> {
    for (const c of this.clients.values()) c.agent.destroy();
    this.clients.clear();
  }

  /** The whole answer of a small file (an InRelease) in memory, at most `maxBytes`. */
  async getBytes(url: string, maxBytes: number): Promise<Buffer> {
    return (await this.getBytesIfChanged(url, maxBytes, {})).bytes!;
  }

  /**
   * getBytes, asked conditionally (If-None-Match, If-Modified-Since: RFC 9110 §13.1) when `since`
   * holds what the server said of the copy at hand: `bytes` is then undefined when the server
   * answers 304 Not Modified. The answer's own validators come back with it.
   */
  async getBytesIfChanged(url: string, maxBytes: number, since: Validators): Promise<{ bytes?: Buffer; validators: Validators }> {
    const headers: Record<string, string> = {};
    if (since.etag) headers['if-none-match'] = since.etag;
    if (since.lastModified) headers['if-modified-since'] = since.lastModified;
    const chunks: Buffer[] = [];
    const answer = await this.get(url, maxBytes, async (body, tick) => {
      let n = 0;
      for await (const c of body) {
        n += c.length;
        if (n > maxBytes) throw tooLarge(url, maxBytes);
        chunks.push(Buffer.from(c));
        tick();
      }
    }, headers);
    const validators = validatorsOf(answer.headers);
    return answer.notModified ? { validators } : { bytes: Buffer.concat(chunks), validators };
  }

  /**
   * Streams `url` into `dest` (a temporary beside it, renamed when complete and checked): a wrong
   * size or hash leaves nothing behind and is one error naming the URL. Returns the SHA256 (hex).
   */
  async download(url: string, dest: string, check: DownloadCheck): Promise<string> {
    const limit = check.size ?? check.maxBytes;
    if (limit > check.maxBytes) throw new ElfpackError('DEB_ARCHIVE', `GET ${url}: its index says ${check.size} bytes, more than the ${check.maxBytes} allowed`, { step: 'deb-fetch' });
    let hex = '';
    await writeFileAtomically(dest, async (out) => {
      await this.get(url, limit, async (body, tick) => {
        const hash = createHash('sha256');
        let n = 0;
        for await (const c of body) {
          n += c.length;
          if (n > limit) throw check.size !== undefined ? mismatch(url, `more than the ${check.size} bytes its index says`) : tooLarge(url, limit);
          hash.update(c);
          if (!out.write(c)) await once(out, 'drain');
          tick();
        }
        if (check.size !== undefined && n !== check.size) throw mismatch(url, `${n} bytes, its index says ${check.size}`);
        hex = hash.digest('hex');
        if (check.sha256 && hex !== check.sha256.toLowerCase()) throw mismatch(url, `SHA256 ${hex}, its index says ${check.sha256}`);
      });
      out.end();
    });
    return hex;
  }

  /**
   * One GET with redirects followed by hand; `read` consumes the body of a 200 answer. A 304 is an
   * answer only to a conditional GET (`headers` with If-None-Match or If-Modified-Since).
   */
  private async get(url: string, maxBytes: number, read: (body: AsyncIterable<Uint8Array>, tick: () => void) => Promise<void>, headers: Record<string, string> = {}): Promise<{ notModified: boolean; headers: IncomingHttpHeaders }> {
    const conditional = Object.keys(headers).length > 0;
    let at = url;
    for (let hop = 0; ; hop++) {
      const target = new URL(at);
      const proxy = this.proxyFor(target); // each hop's host decides again (no_proxy)
      const via = proxy ? ` (through the proxy ${proxy.shown})` : '';
      const { get, agent } = await this.client(target.protocol, proxy);
      const abort = new AbortController();
      let stalled = false;
      let timer: NodeJS.Timeout | undefined;
      const tick = () => {
        clearTimeout(timer);
        timer = setTimeout(() => { stalled = true; abort.abort(); }, this.timeoutMs);
      };
      tick();
      let res: Answer | undefined;
      try {
        res = await new Promise<Answer>((answer, fail) => {
          const common = { agent, signal: abort.signal, headers: { ...headers, 'user-agent': `elfpack/${ELFPACK_VERSION}` } };
          // Through an http proxy, the proxy is asked for the absolute URI; Host is the archive's.
          const req = proxy && target.protocol === 'http:'
            ? get({
              ...common, host: proxy.host, port: proxy.port, path: `http://${target.host}${target.pathname}${target.search}`,
              headers: { ...common.headers, host: target.host, ...(proxy.authorization ? { 'proxy-authorization': proxy.authorization } : {}) },
            }, answer)
            : get(at, common, answer);
          req.on('error', fail);
        });
        const status = res.statusCode ?? 0;
        const location = res.headers.location;
        if ([301, 302, 303, 307, 308].includes(status) && location) {
          const next = new URL(location, at);
          if (hop >= MAX_REDIRECTS) throw new ElfpackError('DEB_ARCHIVE', `GET ${url}: more than ${MAX_REDIRECTS} redirects`, { step: 'deb-fetch' });
          if (new URL(at).protocol === 'https:' && next.protocol !== 'https:') throw new ElfpackError('DEB_ARCHIVE', `GET ${url}: redirected from https to ${next.protocol.replace(':', '')} (${next.origin}), refused as apt does`, { step: 'deb-fetch' });
          if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new ElfpackError('DEB_ARCHIVE', `GET ${url}: redirected to ${next.protocol} URL`, { step: 'deb-fetch' });
          at = next.toString();
          continue;
        }
        if (status === 304 && conditional) return { notModified: true, headers: res.headers };
        if (status !== 200) throw new HttpStatusError(at, status, res.statusMessage ?? '');
        const length = Number(res.headers['content-length'] ?? NaN);
        if (length > maxBytes) throw tooLarge(at, maxBytes);
        await read(res, tick);
        return { notModified: false, headers: res.headers };
      } catch (err) {
        if (stalled) throw new ElfpackError('DEB_UNREACHABLE', `GET ${at}: ${res ? 'the answer started, then' : 'no answer,'} no progress for ${this.timeoutMs / 1000} s${via}`, { path: at, step: 'deb-fetch' });
        if (err instanceof ElfpackError) throw err;
        // A tunnel's error names the proxy already. A refusal is an answer, as a 403 is: not a
        // reason to go on offline from the cache, as an unreachable archive is.
        if (err instanceof ProxyTunnelError) throw new ElfpackError(err.answered ? 'DEB_ARCHIVE' : 'DEB_UNREACHABLE', `GET ${at}: ${err.message}`, { path: at, step: 'deb-fetch' });
        throw new ElfpackError('DEB_UNREACHABLE', `GET ${at}: ${describeNetError(err)}${via}`, { path: at, step: 'deb-fetch', cause: err });
      } finally {
        clearTimeout(timer);
        // The connection goes back to the agent only once the body was read to its end: a body
        // received whole (a redirect's, an error page's) is drained; one cut short ends it.
        if (res?.complete) res.resume();
        else res?.destroy();
      }
    }
  }
}

/** What a server said identifies an answer (RFC 9110 §8.8), to ask later whether it changed. */
export interface Validators {
  etag?: string;
  lastModified?: string;
}

/** An answer's ETag and Last-Modified, when they are short, printable header values. */
function validatorsOf(h: IncomingHttpHeaders): Validators {
  const ok = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 256 && /^[\x20-\x7e]+$/.test(v);
  return { ...(ok(h.etag) ? { etag: h.etag } : {}), ...(ok(h['last-modified']) ? { lastModified: h['last-modified'] } : {}) };
}

/** An answer other than 200 (after redirects): its status, so a caller can try another URL on 404. */
export class HttpStatusError extends ElfpackError {
  constructor(url: string, readonly status: number, statusText: string) {
    super('DEB_ARCHIVE', `GET ${url}: ${status}${statusText ? ` ${statusText}` : ''}`, { step: 'deb-fetch' });
  }
}

function tooLarge(url: string, max: number): ElfpackError {
  return new ElfpackError('DEB_ARCHIVE', `GET ${url}: an answer larger than ${max} bytes`, { step: 'deb-fetch' });
}

function mismatch(url: string, what: string): ElfpackError {
  return new ElfpackError('DEB_ARCHIVE', `GET ${url}: ${what}: refused (a tampered or stale file)`, { step: 'deb-fetch' });
}
