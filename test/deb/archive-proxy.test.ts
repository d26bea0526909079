// The archive through a forward proxy, as curl and apt use one: absolute-URI GETs for http, CONNECT
// tunnels for https (TLS and its certificate check are the archive's), no_proxy, and the errors.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArchiveHttp } from '../../src/deb/archive-http.js';
import { bypassesProxy, describeProxies, parseProxyUrl } from '../../src/deb/archive-proxy.js';
import { ElfpackError } from '../../src/errors.js';
import { forwardProxy, type ForwardProxy } from '../support/forward-proxy.js';
import { needCommand, refusal, runCli, thrown } from '../support/helpers.js';

const basic = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;

describe('deb/archive-proxy: no_proxy as curl reads it', () => {
  const by = (url: string, noProxy: string) => bypassesProxy(new URL(url), noProxy);

  it('a name matches itself and its subdomains, a leading dot or not; not a longer name that ends alike', () => {
    for (const np of ['debian.org', '.debian.org', 'DEBIAN.ORG.']) {
      expect(by('http://deb.debian.org/debian', np), np).to.equal(true);
      expect(by('http://debian.org/', np), np).to.equal(true);
      expect(by('http://notdebian.org/', np), np).to.equal(false);
    }
  });

  it('"*" is every host; entries are comma or space separated; an empty list is none', () => {
    expect(by('https://anything.example/', '*')).to.equal(true);
    expect(by('http://b.example/', 'a.example, b.example')).to.equal(true);
    expect(by('http://c.example/', 'a.example b.example,c.example')).to.equal(true);
    expect(by('http://d.example/', 'a.example,,b.example')).to.equal(false);
    expect(by('http://d.example/', '')).to.equal(false);
  });

  it('a :port limits an entry to that port (the scheme\'s default when the URL has none)', () => {
    expect(by('http://mirror.local:8080/', 'mirror.local:8080')).to.equal(true);
    expect(by('http://mirror.local/', 'mirror.local:8080')).to.equal(false);
    expect(by('https://mirror.local/', 'mirror.local:443')).to.equal(true);
  });

  it('an IP literal matches that address only, IPv6 in any spelling; a name never matches an address', () => {
    expect(by('http://10.1.2.3/', '10.1.2.3')).to.equal(true);
    expect(by('http://110.1.2.3/', '10.1.2.3')).to.equal(false);
    expect(by('http://10.1.2.3/', '1.2.3')).to.equal(false);
    expect(by('http://[::1]:8080/', '0:0::1')).to.equal(true);
    expect(by('http://[::1]:8080/', '[::1]:8080')).to.equal(true);
    expect(by('http://[::1]:8080/', '[::1]:80')).to.equal(false);
  });
});

describe('deb/archive-proxy: proxy URLs', () => {
  it('user and password, percent-decoded, are the Basic Proxy-Authorization; the port defaults to 80; no scheme is http://', () => {
    expect(parseProxyUrl('http://us%40er:p%3Ass@proxy.corp:3128', 'http_proxy')).to.deep.equal({ host: 'proxy.corp', port: 3128, authorization: basic('us@er:p:ss'), shown: 'http://proxy.corp:3128' });
    expect(parseProxyUrl('proxy.corp', 'http_proxy')).to.deep.equal({ host: 'proxy.corp', port: 80, shown: 'http://proxy.corp' });
    expect(parseProxyUrl('http://[::1]:3128/', 'http_proxy')).to.include({ host: '::1', port: 3128 });
  });

  it('a proxy that is not http:// is one error naming the variable, never the credentials', () => {
    const e = thrown(() => parseProxyUrl('socks5://me:secret@proxy.corp:1080', 'https_proxy'));
    expect([e.code, e.message]).to.deep.equal(['USAGE', 'https_proxy=socks5://proxy.corp:1080: only an http:// proxy is supported (https goes through it by CONNECT)']);
    expect(thrown(() => parseProxyUrl('http://me:secret@[bad', 'http_proxy')).message).to.equal('http_proxy: not a proxy URL (http://[user:password@]host:port)');
    expect(thrown(() => new ArchiveHttp(1000, { proxy: { https: 'https://proxy.corp' } })).message).to.match(/^the https proxy=https:\/\/proxy.corp: only an http:\/\/ proxy/);
  });

  it('described in one line without credentials', () => {
    expect(describeProxies({ http: 'http://me:secret@p:3128', https: 'http://p:3129', noProxy: 'localhost, .corp' })).to.equal('http via http://p:3128, https via http://p:3129; not for localhost, .corp');
    expect(describeProxies({ noProxy: 'x' })).to.equal(undefined);
  });

  it('the CLI reads http_proxy (lower case only), https_proxy or HTTPS_PROXY, and names the variable in an error', async () => {
    const bad = await runCli(['deb', 'jq', '--plan'], { env: { HOME: '/nonexistent', HTTPS_PROXY: 'socks5://me:secret@proxy.corp:1080' } });
    expect(bad.code).to.not.equal(0);
    expect(bad.stderr).to.equal('elfpack: HTTPS_PROXY=socks5://proxy.corp:1080: only an http:// proxy is supported (https goes through it by CONNECT)\n');
    const lower = await runCli(['deb', 'jq', '--plan'], { env: { HOME: '/nonexistent', http_proxy: 'ftp://proxy.corp', HTTP_PROXY: 'http://ignored' } });
    expect(lower.stderr).to.match(/^elfpack: http_proxy=ftp:\/\/proxy.corp: only an http:\/\//);
  });
});

describe('deb/archive-proxy: the archive through a forward proxy', function () {
  this.timeout(30_000);
  const body = Buffer.from('y'.repeat(5000));
  let dir: string;
  let cert: Buffer;
  let plain: http.Server;
  let secure: https.Server;
  let plainPort: number;
  let securePort: number;
  const served: string[] = [];
  const proxies: ForwardProxy[] = [];
  const clients: ArchiveHttp[] = [];
  const client = (opts: ConstructorParameters<typeof ArchiveHttp>[1], timeoutMs = 5000) => {
    const c = new ArchiveHttp(timeoutMs, { ca: cert, ...opts });
    clients.push(c);
    return c;
  };
  const proxy = async (opts: Parameters<typeof forwardProxy>[0] = {}) => {
    const p = await forwardProxy({ hosts: { 'archive.test': '127.0.0.1' }, ...opts });
    proxies.push(p);
    return p;
  };
  const handler = (q: http.IncomingMessage, a: http.ServerResponse) => {
    served.push(`${q.headers.host} ${q.url}`);
    if (q.url === '/to-direct') return void a.writeHead(302, { location: `http://127.0.0.1:${plainPort}/file` }).end();
    if (q.url === '/to-proxied') return void a.writeHead(302, { location: `http://archive.test:${plainPort}/file` }).end();
    a.writeHead(200).end(body);
  };

  before(async function () {
    needCommand(this, 'openssl');
    dir = mkdtempSync(join(tmpdir(), 'elfpack-proxy-'));
    // archive.test only: reached as 127.0.0.1, the certificate does not match.
    const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=archive.test',
      '-addext', 'subjectAltName=DNS:archive.test', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    cert = readFileSync(join(dir, 'cert.pem'));
    plain = http.createServer(handler);
    secure = https.createServer({ key: readFileSync(join(dir, 'key.pem')), cert }, handler);
    await new Promise<void>((ok) => plain.listen(0, '127.0.0.1', ok));
    await new Promise<void>((ok) => secure.listen(0, '127.0.0.1', ok));
    plainPort = (plain.address() as AddressInfo).port;
    securePort = (secure.address() as AddressInfo).port;
  });
  beforeEach(() => { served.length = 0; });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(proxies.map((p) => p.close()));
    for (const s of [plain, secure]) { s?.closeAllConnections(); s?.close(); }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('http: the proxy is asked for the absolute URI with the archive\'s Host and Basic credentials, over one kept-alive connection', async () => {
    const p = await proxy({ authorization: basic('us@er:p:ss') });
    const h = client({ proxy: { http: `http://us%40er:p%3Ass@127.0.0.1:${p.port}` } });
    // archive.test resolves only at the proxy: a direct GET could not reach it.
    for (let i = 0; i < 3; i++) expect(await h.getBytes(`http://archive.test:${plainPort}/dists/x/InRelease`, 10_000)).to.deep.equal(body);
    expect(p.asked).to.deep.equal(Array(3).fill({ method: 'GET', target: `http://archive.test:${plainPort}/dists/x/InRelease`, host: `archive.test:${plainPort}`, authorization: basic('us@er:p:ss') }));
    expect(p.connections).to.equal(1);
    expect(served).to.deep.equal(Array(3).fill(`archive.test:${plainPort} /dists/x/InRelease`));
  });

  it('https: a CONNECT tunnel with credentials, TLS to the archive (its name, its certificate), kept alive', async () => {
    const p = await proxy({ authorization: basic('me:pw') });
    const h = client({ proxy: { https: `http://me:pw@127.0.0.1:${p.port}` } });
    const dest = join(dir, 'through-tunnel');
    await h.download(`https://archive.test:${securePort}/pool/a.deb`, dest, { maxBytes: 10_000, size: body.length });
    expect(readFileSync(dest)).to.deep.equal(body);
    expect(await h.getBytes(`https://archive.test:${securePort}/again`, 10_000)).to.deep.equal(body);
    expect(p.asked).to.deep.equal([{ method: 'CONNECT', target: `archive.test:${securePort}`, host: `archive.test:${securePort}`, authorization: basic('me:pw') }]);
    expect(served).to.deep.equal([`archive.test:${securePort} /pool/a.deb`, `archive.test:${securePort} /again`]);
  });

  it('https: the certificate is checked against the archive\'s name, through the tunnel as without one', async () => {
    const p = await proxy();
    const h = client({ proxy: { https: p.url } });
    const e = await refusal(h.getBytes(`https://127.0.0.1:${securePort}/file`, 10_000));
    expect(e.message).to.match(/ERR_TLS_CERT_ALTNAME_INVALID/);
    expect(p.asked.map((a) => a.method)).to.deep.equal(['CONNECT']);
  });

  it('no_proxy: a host it names is reached directly; the proxy is asked nothing', async () => {
    const p = await proxy();
    const h = client({ proxy: { http: p.url, https: p.url, noProxy: 'localhost, 127.0.0.1' } });
    expect(await h.getBytes(`http://127.0.0.1:${plainPort}/file`, 10_000)).to.deep.equal(body);
    expect(p.asked).to.deep.equal([]);
    expect(served).to.deep.equal([`127.0.0.1:${plainPort} /file`]);
  });

  it('per host (apt.conf\'s Acquire::http::Proxy::HOST): DIRECT goes direct, a URL goes through that proxy, others through the general one', async () => {
    const general = await proxy();
    const special = await proxy();
    const h = client({ proxy: { http: general.url, https: general.url, perHost: { http: { '127.0.0.1': 'DIRECT', 'archive.test': special.url }, https: { 'archive.test': special.url } } } });
    expect(await h.getBytes(`http://127.0.0.1:${plainPort}/file`, 10_000)).to.deep.equal(body);
    expect(await h.getBytes(`http://archive.test:${plainPort}/file`, 10_000)).to.deep.equal(body);
    expect(await h.getBytes(`https://archive.test:${securePort}/file`, 10_000)).to.deep.equal(body);
    expect(general.asked).to.deep.equal([]);
    expect(special.asked.map((a) => `${a.method} ${a.target}`)).to.deep.equal([`GET http://archive.test:${plainPort}/file`, `CONNECT archive.test:${securePort}`]);
    expect(served).to.deep.equal([`127.0.0.1:${plainPort} /file`, `archive.test:${plainPort} /file`, `archive.test:${securePort} /file`]);
  });

  it('a redirect decides again: to a no_proxy host it goes direct, from one to another host through the proxy', async () => {
    const p = await proxy();
    const h = client({ proxy: { http: p.url, noProxy: '127.0.0.1' } });
    expect(await h.getBytes(`http://archive.test:${plainPort}/to-direct`, 10_000)).to.deep.equal(body);
    expect(p.asked.map((a) => a.target)).to.deep.equal([`http://archive.test:${plainPort}/to-direct`]);
    expect(served).to.deep.equal([`archive.test:${plainPort} /to-direct`, `127.0.0.1:${plainPort} /file`]);
    expect(await h.getBytes(`http://127.0.0.1:${plainPort}/to-proxied`, 10_000)).to.deep.equal(body);
    expect(p.asked.map((a) => a.target)).to.deep.equal([`http://archive.test:${plainPort}/to-direct`, `http://archive.test:${plainPort}/file`]);
  });

  it('a refused CONNECT is one line with its status (an answer, not an unreachable archive); so are wrong credentials', async () => {
    const p = await proxy({ refuseConnect: 403 });
    const e = await refusal(client({ proxy: { https: p.url } }).getBytes(`https://archive.test:${securePort}/file`, 10_000));
    expect([e.code, e.message]).to.deep.equal(['DEB_ARCHIVE', `GET https://archive.test:${securePort}/file: the proxy ${p.url}: CONNECT archive.test:${securePort}: refused with 403 Forbidden`]);
    const auth = await proxy({ authorization: basic('me:pw') });
    const wrong = await refusal(client({ proxy: { https: `http://me:nope@127.0.0.1:${auth.port}` } }).getBytes(`https://archive.test:${securePort}/file`, 10_000));
    expect(wrong.message).to.equal(`GET https://archive.test:${securePort}/file: the proxy ${auth.url}: CONNECT archive.test:${securePort}: refused with 407 Proxy Authentication Required`);
    expect(wrong.message).to.not.include('nope');
  });

  it('a proxy that is not there, that never answers CONNECT, or answers it with endless headers: one line each, within the deadline', async () => {
    const gone = await refusal(client({ proxy: { http: 'http://127.0.0.1:1' } }).getBytes(`http://archive.test:${plainPort}/file`, 100));
    expect(gone.message).to.equal(`GET http://archive.test:${plainPort}/file: connection refused (ECONNREFUSED) (through the proxy http://127.0.0.1:1)`);
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => { sockets.push(s); });
    const chatty = net.createServer((s) => { sockets.push(s); s.write(`HTTP/1.1 200 OK\r\nx-junk: ${'a'.repeat(64 << 10)}\r\n\r\n`); });
    await new Promise<void>((ok) => silent.listen(0, '127.0.0.1', ok));
    await new Promise<void>((ok) => chatty.listen(0, '127.0.0.1', ok));
    try {
      const silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      const t0 = Date.now();
      const stall = await refusal(client({ proxy: { https: silentUrl } }, 300).getBytes(`https://archive.test:${securePort}/file`, 100));
      expect(stall.code).to.equal('DEB_UNREACHABLE');
      expect(stall.message).to.equal(`GET https://archive.test:${securePort}/file: no answer, no progress for 0.3 s (through the proxy ${silentUrl})`);
      expect(Date.now() - t0).to.be.below(2000);
      const chattyUrl = `http://127.0.0.1:${(chatty.address() as AddressInfo).port}`;
      const big = await refusal(client({ proxy: { https: chattyUrl } }).getBytes(`https://archive.test:${securePort}/file`, 100));
      expect(big.message).to.equal(`GET https://archive.test:${securePort}/file: the proxy ${chattyUrl}: CONNECT archive.test:${securePort}: HPE_HEADER_OVERFLOW`);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
      chatty.close();
    }
  });
});
