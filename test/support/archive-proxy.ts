// A Debian archive on 127.0.0.1 for tests: every GET is passed on to a real archive unless `answer`
// answers the path itself (a status, a body, a redirect). Closing it leaves nothing listening
// there, which is how the tests take the archive away.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chooseArchive, hostSourcesReader, readAptSources } from '../../src/deb/apt-sources.js';

export interface ProxyAnswer { status?: number; body?: Buffer; location?: string }

export interface ArchiveProxy {
  /** The proxy's base URL, ending in "/": a path under it is the same path under `upstream`. */
  base: string;
  /** The paths asked for, in order. */
  requests: string[];
  close(): Promise<void>;
}

/** A proxy in front of `upstream` (a URL ending in "/"). */
export async function archiveProxy(upstream: string, answer: (path: string) => ProxyAnswer | undefined = () => undefined): Promise<ArchiveProxy> {
  const requests: string[] = [];
  const server = http.createServer((q, a) => {
    const path = q.url ?? '/';
    requests.push(path);
    const r = answer(path);
    if (r) return void a.writeHead(r.status ?? 200, r.location ? { location: r.location } : {}).end(r.body ?? '');
    void fetch(new URL(path.slice(1), upstream)).then(async (real) => {
      a.writeHead(real.status);
      for await (const c of real.body as unknown as AsyncIterable<Uint8Array>) a.write(c);
      a.end();
    }, () => a.writeHead(502).end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return { base, requests, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

/** The archive the host's apt sources name for `suite` (ending in "/"); deb.debian.org on a host without one. */
export function hostArchiveUrl(suite: string): string {
  try {
    return chooseArchive(readAptSources(hostSourcesReader()), suite, 'amd64').mirror.replace(/\/?$/, '/');
  } catch {
    return 'http://deb.debian.org/debian/';
  }
}
