// A fault-injecting HTTP proxy in front of a real registry, on the loopback only. Scripted per
// request (method, path pattern, nth occurrence), it answers an error (Retry-After, registry error
// JSON), drops the connection, stalls, redirects, throttles an upload, or forwards with the Location
// header rewritten to any relative form or to its second port (which forwards as well). Requests it
// does not fault are forwarded as they are, Location pointing back at the port that was asked.
// Also: listeners that stall a client before HTTP starts (no TLS handshake, no TCP connection).
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

/** How a rewritten Location is written: the forms the distribution spec lets a registry use, and more. */
export type LocationForm =
  | 'absolute' // http://proxy:port/v2/…
  | 'other-port' // http://proxy:other-port/v2/… (the second port: another origin, forwarding too)
  | 'network-path' // //proxy:port/v2/…
  | 'path' // /v2/…
  | 'relative' // ID?… (relative to the request's directory)
  | 'dot' // ./ID?…
  | 'dotdot'; // ../uploads/ID?…

export type Fault =
  /** Answer this status without forwarding (the body is read first), with Retry-After and registry errors. */
  | { answer: number; retryAfter?: string; errors?: { code: string; message: string }[] }
  /** Close the connection: before forwarding ('request'), or after the registry answered ('answer', which is lost). */
  | { drop: 'request' | 'answer' }
  /** Never answer: after reading the request ('answer'); reading none of its body ('upload'); after the registry's headers ('answer-body'). */
  | { stall: 'answer' | 'upload' | 'answer-body' }
  /** Answer a redirect to the same request through `to`, a detour the proxy takes back to the registry; early: before reading the body. */
  | { redirect: 301 | 302 | 303 | 307 | 308; to: LocationForm; early?: boolean }
  /** Forward, with the answer's Location in `location` form; mount and from dropped (a refused mount); the body read at a rate. */
  | { forward: { location?: LocationForm; refuseMount?: boolean; bytesPerSecond?: number } };

export interface FaultRule {
  method?: string;
  /** Matched against the path (no query). */
  path?: RegExp;
  /** Which matching requests get the fault, from 1 (default 1); 'every' for all of them. */
  nth?: number | number[] | 'every';
  fault: Fault;
}

export interface ProxiedRequest {
  port: 'main' | 'other';
  method: string;
  /** As the client sent it. */
  url: string;
  /** Date.now() when it arrived. */
  at: number;
  /** The status the client got; 0 while pending. */
  status: number | 'dropped' | 'stalled';
  fault?: string;
  /** Request body bytes the proxy read. */
  bytesIn: number;
}

export interface FaultProxy {
  /** "127.0.0.1:PORT" */
  host: string;
  /** The second port, another origin that forwards too. */
  otherHost: string;
  requests: ProxiedRequest[];
  script(...rules: FaultRule[]): void;
  stop(): Promise<void>;
}

/** Marks a request sent back by a redirect; removed before forwarding. */
const DETOUR = 'proxy-detour';

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const [targetHost, targetPort] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const agent = new http.Agent({ keepAlive: true });
  const requests: ProxiedRequest[] = [];
  let rules: { rule: FaultRule; seen: number }[] = [];
  const hosts = { main: '', other: '' };

  const pick = (method: string, path: string): Fault | undefined => {
    let chosen: Fault | undefined;
    for (const r of rules) {
      if ((r.rule.method && r.rule.method !== method) || (r.rule.path && !r.rule.path.test(path))) continue;
      const n = ++r.seen;
      const nth = r.rule.nth ?? 1;
      if (!chosen && (nth === 'every' || (Array.isArray(nth) ? nth.includes(n) : nth === n))) chosen = r.rule.fault;
    }
    return chosen;
  };

  const handle = (port: 'main' | 'other') => async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const self = hosts[port];
    const entry: ProxiedRequest = { port, method: req.method ?? '', url: req.url ?? '/', at: Date.now(), status: 0, bytesIn: 0 };
    requests.push(entry);
    const asked = new URL(entry.url, `http://${self}`);
    const fault = pick(entry.method, asked.pathname);
    entry.fault = fault && JSON.stringify(fault);
    const drain = async () => { for await (const c of req) entry.bytesIn += (c as Buffer).length; };
    if (fault && 'answer' in fault) {
      await drain();
      const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/json' };
      if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
      entry.status = fault.answer;
      res.writeHead(fault.answer, headers).end(JSON.stringify({ errors: fault.errors ?? [{ code: 'UNAVAILABLE', message: `the proxy answered ${fault.answer}` }] }));
      return;
    }
    if (fault && 'drop' in fault && fault.drop === 'request') {
      entry.status = 'dropped';
      req.socket.destroy();
      return;
    }
    if (fault && 'stall' in fault && fault.stall !== 'answer-body') {
      entry.status = 'stalled';
      if (fault.stall === 'answer') await drain();
      else req.pause();
      return; // the socket stays open until stop()
    }
    if (fault && 'redirect' in fault) {
      if (!fault.early) await drain();
      const detour = new URL(asked);
      detour.searchParams.append(DETOUR, String(requests.length));
      entry.status = fault.redirect;
      res.writeHead(fault.redirect, { location: writeLocation(fault.to, asked.pathname, detour.pathname + detour.search, hosts, self), 'content-length': '0' }).end();
      return;
    }

    // Forward to the registry.
    const forward = fault && 'forward' in fault ? fault.forward : {};
    const out = new URL(asked);
    out.searchParams.delete(DETOUR);
    if (forward.refuseMount) {
      out.searchParams.delete('mount');
      out.searchParams.delete('from');
    }
    const up = http.request({ host: targetHost, port: targetPort, method: entry.method, path: out.pathname + out.search, agent, headers: { ...req.headers, host: target } });
    up.on('response', (ur) => {
      const headers = { ...ur.headers };
      const loc = headers.location;
      if (loc) {
        const at = new URL(loc, `http://${target}`);
        headers.location = writeLocation(forward.location ?? 'absolute', asked.pathname, at.pathname + at.search, hosts, self);
      }
      if (fault && 'drop' in fault) {
        entry.status = 'dropped';
        ur.resume();
        ur.once('end', () => req.socket.destroy());
        return;
      }
      entry.status = ur.statusCode ?? 502;
      if (fault && 'stall' in fault) {
        // The headers go out, the body never does (chunked, so the client waits for more).
        entry.status = 'stalled';
        delete headers['content-length'];
        ur.resume();
        res.writeHead(ur.statusCode ?? 502, headers);
        res.flushHeaders();
        return;
      }
      res.writeHead(ur.statusCode ?? 502, headers);
      ur.pipe(res);
    });
    up.on('error', (e) => {
      if (res.headersSent) { res.destroy(); return; }
      entry.status = 502;
      res.writeHead(502, { 'content-type': 'text/plain' }).end(`fault proxy: ${e.message}\n`);
    });
    try {
      const started = Date.now();
      for await (const c of req) {
        entry.bytesIn += (c as Buffer).length;
        if (!up.write(c)) await once(up, 'drain');
        // A slow registry that still makes progress: read no faster than the rate.
        if (forward.bytesPerSecond) {
          const due = (entry.bytesIn * 1000) / forward.bytesPerSecond - (Date.now() - started);
          if (due > 0) await sleep(due);
        }
      }
      up.end();
    } catch {
      up.destroy();
    }
  };

  const listen = async (port: 'main' | 'other') => {
    const server = http.createServer((q, a) => { void handle(port)(q, a); });
    await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.0.1', resolve); });
    hosts[port] = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    return server;
  };
  const servers = [await listen('main'), await listen('other')];
  return {
    host: hosts.main,
    otherHost: hosts.other,
    requests,
    script: (...r) => { rules = r.map((rule) => ({ rule, seen: 0 })); },
    stop: async () => {
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => { s.close(() => resolve()); s.closeAllConnections(); })));
      agent.destroy();
    },
  };
}

/** `to` (a path and query on the registry) as a Location in `form`, for a request to `fromPath` on `self`. */
export function writeLocation(form: LocationForm, fromPath: string, to: string, hosts: { main: string; other: string }, self: string): string {
  switch (form) {
    case 'absolute': return `http://${self}${to}`;
    case 'other-port': return `http://${hosts.other}${to}`;
    case 'network-path': return `//${self}${to}`;
    case 'path': return to;
    case 'relative': return relativeRef(fromPath, to);
    case 'dot': {
      const rel = relativeRef(fromPath, to);
      return rel.startsWith('../') ? rel : `./${rel.replace(/^\.\//, '')}`;
    }
    case 'dotdot': {
      const dirs = fromPath.split('/').slice(1, -1);
      const rel = relativeRef(fromPath, to);
      return dirs.length && !rel.startsWith('../') ? `../${dirs[dirs.length - 1]}/${rel.replace(/^\.\//, '')}` : rel;
    }
  }
}

/** The shortest relative reference from a request path to `to` (RFC 3986 §5.2 resolves it back). */
export function relativeRef(fromPath: string, to: string): string {
  const q = to.indexOf('?');
  const [toPath, query] = q < 0 ? [to, ''] : [to.slice(0, q), to.slice(q)];
  const fromDirs = fromPath.split('/').slice(1, -1);
  const toParts = toPath.split('/').slice(1);
  let common = 0;
  while (common < fromDirs.length && common < toParts.length - 1 && fromDirs[common] === toParts[common]) common++;
  const rel = '../'.repeat(fromDirs.length - common) + toParts.slice(common).join('/');
  if (rel === '') return query || './';
  // "sha256:…" as a first segment would read as a scheme.
  return (rel.split('/')[0].includes(':') ? './' : '') + rel + query;
}

export interface StalledListener {
  /** "127.0.0.1:PORT" */
  host: string;
  stop(): Promise<void>;
}

/** A TCP server that accepts connections and never reads or writes: a TLS handshake to it stalls. */
export async function startSilentServer(): Promise<StalledListener> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => { sockets.add(s); s.on('error', () => undefined); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A port whose accept queue is full (a listener with backlog 0 that never accepts, its one slot
 * taken): the kernel drops the SYN of any further connect, which stalls. Node always accepts,
 * so the listener is python3's.
 */
export async function startUnacceptingPort(): Promise<StalledListener> {
  const py: ChildProcess = spawn('python3', ['-c', 'import socket,sys\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\nsys.stdin.read()'], { stdio: ['pipe', 'pipe', 'ignore'] });
  const port = await new Promise<number>((resolve, reject) => {
    py.stdout!.once('data', (d) => resolve(Number(String(d).trim())));
    py.once('error', reject);
    py.once('exit', () => reject(new Error('python3 exited before listening')));
  });
  // Fill the queue: the first connect completes into it; the next one must then stall.
  const fillers: net.Socket[] = [];
  const connects = (ms: number) => new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    fillers.push(s);
    s.on('error', () => resolve(false));
    s.once('connect', () => resolve(true));
    setTimeout(() => resolve(false), ms);
  });
  for (let i = 0; i < 8 && await connects(300); i++);
  return {
    host: `127.0.0.1:${port}`,
    stop: async () => {
      for (const s of fillers) s.destroy();
      py.stdin!.end();
      if (py.exitCode === null) await once(py, 'exit');
    },
  };
}
