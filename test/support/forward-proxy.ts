// A forward HTTP proxy on 127.0.0.1 for tests, as squid is one: absolute-URI GETs passed on to
// the host they name, CONNECT tunnels to host:port. It records what it was asked (with the
// Proxy-Authorization header), can insist on credentials (407) and can refuse CONNECT.
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface ProxiedAsk {
  method: string;
  /** The absolute URI of a GET, the host:port of a CONNECT. */
  target: string;
  /** The Host header the client sent. */
  host?: string;
  authorization?: string;
}

export interface ForwardProxy {
  /** "http://127.0.0.1:PORT" */
  url: string;
  port: number;
  asked: ProxiedAsk[];
  /** TCP connections the proxy accepted (keep-alive reuses them). */
  connections: number;
  close(): Promise<void>;
}

export interface ForwardProxyOptions {
  /** The Proxy-Authorization value required, else 407. */
  authorization?: string;
  /** Answer every CONNECT with this status instead of opening the tunnel. */
  refuseConnect?: number;
  /** Names only the proxy can resolve (name → address), as a proxy's own DNS. */
  hosts?: Record<string, string>;
}

export async function forwardProxy(opts: ForwardProxyOptions = {}): Promise<ForwardProxy> {
  const asked: ProxiedAsk[] = [];
  const tunnels = new Set<net.Socket>();
  const allowed = (h: http.IncomingHttpHeaders) => !opts.authorization || h['proxy-authorization'] === opts.authorization;
  const server = http.createServer((q, a) => {
    asked.push({ method: q.method ?? '', target: q.url ?? '', host: q.headers.host, authorization: q.headers['proxy-authorization'] });
    if (!allowed(q.headers)) return void a.writeHead(407, { 'proxy-authenticate': 'Basic realm="test"' }).end();
    let to: URL;
    try {
      to = new URL(q.url ?? '');
    } catch {
      return void a.writeHead(400).end('not an absolute URI');
    }
    const headers = { ...q.headers };
    delete headers['proxy-authorization'];
    const up = http.request({ host: opts.hosts?.[to.hostname] ?? to.hostname, port: to.port || 80, path: `${to.pathname}${to.search}`, method: q.method, headers }, (r) => {
      a.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(a);
    });
    up.on('error', () => { if (!a.headersSent) a.writeHead(502).end(); else a.destroy(); });
    q.pipe(up);
  });
  let connections = 0;
  server.on('connection', () => { connections++; });
  server.on('connect', (q: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    asked.push({ method: 'CONNECT', target: q.url ?? '', host: q.headers.host, authorization: q.headers['proxy-authorization'] });
    const refuse = !allowed(q.headers) ? 407 : opts.refuseConnect;
    if (refuse) return void client.end(`HTTP/1.1 ${refuse} ${http.STATUS_CODES[refuse] ?? ''}\r\ncontent-length: 0\r\n\r\n`);
    const m = /^\[?([^\]]*)\]?:(\d+)$/.exec(q.url ?? '');
    if (!m) return void client.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    const up = net.connect(Number(m[2]), opts.hosts?.[m[1]] ?? m[1], () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) up.write(head);
      up.pipe(client);
      client.pipe(up);
    });
    tunnels.add(client);
    client.on('close', () => { tunnels.delete(client); up.destroy(); });
    up.on('error', () => client.destroy());
    client.on('error', () => up.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`, port, asked,
    get connections() { return connections; },
    close: () => new Promise<void>((r) => {
      for (const t of tunnels) t.destroy();
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}
