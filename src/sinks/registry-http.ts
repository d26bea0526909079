// HTTP for the registry client, over undici (the fetch inside Node): each exchange runs under a
// deadline that restarts whenever bytes move, redirects are followed here (307/308 re-send the body,
// re-read from its file), and failures a registry recovers from are retried: 408, 429, 5xx and
// dropped connections, after the registry's Retry-After (RFC 9110 §10.2.3) or a doubling backoff.
import { createReadStream, readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { ElfpackError } from '../errors.js';
import { escapeName } from '../escape.js';
import { describeNetError, rootCause } from '../net-errors.js';

/** A request body that can be sent again: bytes, or a slice of a file (opened afresh for each send). */
export type RequestBody = Uint8Array | { file: string; offset: number; length: number };

export interface HttpRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: RequestBody;
}

export interface HttpAnswer {
  /** The request as finally sent (after redirects): Location headers resolve against its URL. */
  method: string;
  url: string;
  status: number;
  statusText: string;
  headers: Headers;
  body: Buffer;
}

export interface HttpOptions {
  /** Tries per request, the first included (at least 1). */
  attempts: number;
  /** The first wait between tries, doubled each time. */
  backoffMs: number;
  /** The longest wait between two tries, whatever Retry-After asks. */
  retryWaitCapMs: number;
  /** How long an exchange may go without progress (connecting, sending, answering). */
  timeoutMs: number;
  /** PEM of a private CA the registry's certificate chains to. */
  caFile?: string;
  onProgress?: (line: string) => void;
}

/** Hops after which a chain of redirects is an error (fetch allows 20; a registry needs 1 or 2). */
export const MAX_REDIRECTS = 5;
/** The largest answer body read: registries answer pushes with small JSON (errors, tokens). */
export const MAX_ANSWER_BYTES = 4 << 20;

/** The method and URL path of a request, as every error line names it (no query: it may hold signatures). */
export function describeRequest(method: string, url: string): string {
  return `${method} ${new URL(url).pathname}`;
}

/** The registry's own errors (distribution-spec `{"errors":[{"code","message"}]}`), or a short plain-text body. */
export function registryDetail(a: HttpAnswer): string {
  const text = a.body.toString('utf8');
  try {
    const errors = (JSON.parse(text) as { errors?: { code?: unknown; message?: unknown }[] }).errors;
    if (Array.isArray(errors)) {
      return escapeName(errors.slice(0, 3).map((e) => [e.code, e.message].filter((x) => typeof x === 'string' && x).join(': ')).filter(Boolean).join('; ').slice(0, 400));
    }
  } catch {
    // not JSON
  }
  const line = /^text\/plain\b/.test(a.headers.get('content-type') ?? '') ? text.trim().split('\n')[0] : '';
  return escapeName(line.length > 200 ? `${line.slice(0, 200)}…` : line);
}

/** "400 MANIFEST_INVALID: manifest invalid", or "502 Bad Gateway" when the registry said nothing more. */
export function describeStatus(a: HttpAnswer): string {
  const detail = registryDetail(a);
  return detail ? `${a.status} ${detail}` : `${a.status}${a.statusText ? ` ${a.statusText}` : ''}`;
}

// The three HTTP-date forms (IMF-fixdate, RFC 850, asctime): V8's Date.parse alone takes "-1" or "1.5" for dates.
const HTTP_DATE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,? +[\w -]+ \d\d:\d\d:\d\d (?:GMT|\d{4})$/;

/** Retry-After in ms: delay-seconds or an HTTP-date; undefined when absent or unreadable. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  const v = value?.trim();
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  if (!HTTP_DATE.test(v)) return undefined;
  const at = Date.parse(v.endsWith('GMT') ? v : `${v} GMT`); // asctime has no zone: it is GMT too
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

// 501 and 505 say the server will never do it; the other 5xx, 408 and 429 are worth another try.
const retryable = (status: number) => status === 408 || status === 429 || (status >= 500 && status !== 501 && status !== 505);
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** A fetch failure (no answer), with the request it happened to: retried, then reported. */
class NetFailure extends Error {
  constructor(readonly method: string, readonly url: string, cause: unknown) {
    super(describeNetError(cause), { cause });
  }
}

type Fetch = typeof import('undici').fetch;
type Agent = import('undici').Agent;

export class RegistryHttp {
  private agent?: Agent;
  private fetch?: Fetch;
  /** Connections being set up (TCP + TLS), by origin: tells a stalled connect from a stalled answer. */
  private connecting = new Map<string, number>();
  /** Sockets still connecting: the agent cannot end those, and they would keep the process alive. */
  private halfOpen = new Set<Socket>();

  constructor(private opts: HttpOptions) {}

  private async undici(): Promise<{ fetch: Fetch; agent: Agent }> {
    if (!this.agent || !this.fetch) {
      const { Agent, buildConnector, fetch } = await import('undici');
      const ca = this.opts.caFile ? readFileSync(this.opts.caFile) : undefined;
      // undici's own connect timeout backs ours up, a little later, so a connect we gave up on ends.
      const base = buildConnector({ ...(ca ? { ca } : {}), timeout: this.opts.timeoutMs + 1000 });
      const { connecting, halfOpen } = this;
      const connect: import('undici').buildConnector.connector = (o, callback) => {
        const key = `${o.protocol}//${o.hostname}:${o.port}`;
        connecting.set(key, (connecting.get(key) ?? 0) + 1);
        // undici's connector returns the socket (its type says void): kept to end it in close().
        const socket = (base as (...a: Parameters<typeof base>) => unknown)(o, (...args) => {
          connecting.set(key, (connecting.get(key) ?? 1) - 1);
          halfOpen.delete(socket as Socket);
          callback(...args);
        });
        if (socket) halfOpen.add(socket as Socket);
      };
      // Our deadline covers headers and bodies: undici's own timers (300 s) are turned off.
      this.agent = new Agent({ connect, headersTimeout: 0, bodyTimeout: 0 });
      this.fetch = fetch;
    }
    return { fetch: this.fetch, agent: this.agent };
  }

  /** Ends every connection, including one still being set up. */
  async close(): Promise<void> {
    for (const s of this.halfOpen) s.destroy();
    this.halfOpen.clear();
    await this.agent?.destroy().catch(() => undefined);
  }

  /**
   * The request, redirects followed, retried on 408, 429, 5xx and network failures up to `attempts`
   * tries; the last answer is returned whatever its status. A stall is not retried (a registry that
   * made no progress for the whole deadline would make the push wait attempts × deadline); nor is
   * an error `fatal` recognizes (a TLS failure the caller handles).
   */
  async send(req: HttpRequest, fatal: (err: unknown) => boolean = () => false): Promise<HttpAnswer> {
    const attempts = Math.max(1, Math.floor(this.opts.attempts));
    const what = describeRequest(req.method, req.url);
    let backoff = this.opts.backoffMs;
    for (let i = 1; ; i++) {
      let wait: number;
      let why: string;
      try {
        const answer = await this.follow(req);
        if (!retryable(answer.status) || i >= attempts) return answer;
        const asked = retryAfterMs(answer.headers.get('retry-after'));
        wait = asked ?? backoff;
        why = `${answer.status}${asked === undefined ? '' : ` (Retry-After ${answer.headers.get('retry-after')})`}`;
      } catch (err) {
        if (!(err instanceof NetFailure)) throw err;
        const where = describeRequest(err.method, err.url);
        if (fatal(err) || i >= attempts) {
          throw new ElfpackError('REGISTRY', `${where}: ${err.message}${i > 1 ? ` (after ${i} attempts)` : ''}`, { path: new URL(err.url).host, step: 'push', cause: err });
        }
        wait = backoff;
        why = err.message;
      }
      wait = Math.min(wait, this.opts.retryWaitCapMs);
      this.opts.onProgress?.(`${what}: ${why}, retrying in ${seconds(wait)} (${i} of ${attempts - 1})`);
      await new Promise((r) => setTimeout(r, wait));
      backoff *= 2;
    }
  }

  /**
   * One try, following redirects by hand: fetch's own following cannot send a streamed body twice.
   * 307 and 308 keep the method and body; 301, 302 and 303 are followed for GET and HEAD only,
   * because HTTP clients turn them into a GET, which cannot carry an upload.
   */
  private async follow(req: HttpRequest): Promise<HttpAnswer> {
    const headers = { ...req.headers };
    let url = req.url;
    for (let hop = 0; ; hop++) {
      const answer = await this.exchange(req.method, url, headers, req.body);
      const location = answer.headers.get('location');
      if (!REDIRECTS.has(answer.status) || !location) return answer;
      const next = new URL(location, url).toString(); // relative to the URL that answered
      const where = describeRequest(req.method, url);
      const host = new URL(url).host;
      if (answer.status < 307 && req.method !== 'GET' && req.method !== 'HEAD') {
        throw new ElfpackError('REGISTRY', `${where}: answered ${answer.status}, a redirect that turns the request into a GET; a registry redirects uploads with 307 or 308`, { path: host, step: 'push' });
      }
      if (hop >= MAX_REDIRECTS) throw new ElfpackError('REGISTRY', `${where}: more than ${MAX_REDIRECTS} redirects`, { path: host, step: 'push' });
      // Credentials stay with the origin they were made for, as fetch does.
      if (new URL(next).origin !== new URL(url).origin) delete headers.authorization;
      url = next;
    }
  }

  /** One request and its whole answer, failing when nothing moves for timeoutMs. */
  private async exchange(method: string, url: string, headers: Record<string, string>, body?: RequestBody): Promise<HttpAnswer> {
    const { fetch, agent } = await this.undici();
    const u = new URL(url);
    const key = `${u.protocol}//${u.hostname}:${u.port}`;
    const total = body?.length ?? 0;
    const state = { sent: body instanceof Uint8Array ? total : 0, status: 0, received: 0, fileError: undefined as unknown };
    const abort = new AbortController();
    let stall: ElfpackError | undefined;
    let timer: NodeJS.Timeout | undefined;
    const progress = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        stall = this.stallError(method, url, (this.connecting.get(key) ?? 0) > 0 && state.status === 0, state, total);
        abort.abort(stall);
      }, this.opts.timeoutMs);
    };
    const file = body && !(body instanceof Uint8Array) && body.length > 0 ? openSlice(body, (n) => { state.sent += n; progress(); }, (e) => { state.fileError = e; }) : undefined;
    const payload = file ? file.stream : body instanceof Uint8Array ? body : body ? new Uint8Array(0) : undefined;
    progress();
    try {
      // A streamed body needs duplex: 'half' in fetch.
      const res = await fetch(url, { method, headers, body: payload, redirect: 'manual', signal: abort.signal, dispatcher: agent, ...(file ? { duplex: 'half' } : {}) } as Parameters<Fetch>[1]);
      state.status = res.status;
      progress();
      const chunks: Buffer[] = [];
      if (res.body) {
        for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
          state.received += chunk.length;
          if (state.received > MAX_ANSWER_BYTES) {
            abort.abort();
            throw new ElfpackError('REGISTRY', `${describeRequest(method, url)}: an answer larger than ${MAX_ANSWER_BYTES >> 20} MiB`, { path: u.host, step: 'push' });
          }
          chunks.push(Buffer.from(chunk));
          progress();
        }
      }
      return { method, url, status: res.status, statusText: res.statusText, headers: res.headers as unknown as Headers, body: Buffer.concat(chunks) };
    } catch (err) {
      if (stall) throw stall;
      if (state.fileError) throw new ElfpackError('IO', `cannot read the blob to upload: ${describeNetError(state.fileError)}`, { path: (body as { file: string }).file, step: 'push', cause: state.fileError });
      if (err instanceof ElfpackError) throw err;
      // undici's connect timeout, should it fire first, is the same stall.
      if (rootCause(err).code === 'UND_ERR_CONNECT_TIMEOUT') throw this.stallError(method, url, true, state, total);
      throw new NetFailure(method, url, err);
    } finally {
      clearTimeout(timer);
      file?.close();
    }
  }

  private stallError(method: string, url: string, connecting: boolean, s: { sent: number; status: number; received: number }, total: number): ElfpackError {
    const u = new URL(url);
    const limit = seconds(this.opts.timeoutMs);
    const what = connecting
      ? `stalled connecting: no ${u.protocol === 'https:' ? 'TLS ' : ''}connection to ${u.host} within ${limit}`
      : s.status === 0 && s.sent < total
        ? `stalled sending the body: the registry took ${s.sent} of ${total} bytes, then nothing for ${limit}`
        : s.status === 0
          ? `stalled: no answer within ${limit}${total ? ` of sending the body (${total} bytes)` : ''}`
          : `stalled: the answer (${s.status}) started, then no data for ${limit} after ${s.received} bytes`;
    return new ElfpackError('REGISTRY_TIMEOUT', `${describeRequest(method, url)}: ${what} (--timeout)`, { path: u.host, step: 'push' });
  }
}

/**
 * A file slice as a web stream pulled chunk by chunk (highWaterMark 0: nothing is read before the
 * socket asks), so each chunk taken is progress the registry made.
 */
function openSlice(s: { file: string; offset: number; length: number }, onBytes: (n: number) => void, onError: (e: unknown) => void): { stream: ReadableStream<Uint8Array>; close(): void } {
  const file = createReadStream(s.file, { start: s.offset, end: s.offset + s.length - 1 });
  const chunks = file[Symbol.asyncIterator]();
  const stream = new ReadableStream<Uint8Array>({
    async pull(ctl) {
      try {
        const r = await chunks.next();
        if (r.done) ctl.close();
        else {
          onBytes(r.value.length);
          ctl.enqueue(r.value);
        }
      } catch (e) {
        onError(e);
        ctl.error(e);
      }
    },
    cancel() {
      file.destroy();
    },
  }, { highWaterMark: 0 });
  return { stream, close: () => file.destroy() };
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(ms < 10_000 ? 2 : 0))} s`;
}
