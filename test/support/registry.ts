// Real OCI registries for the push tests: the plain one `make deps` starts on 127.0.0.1:5000,
// private ones per test (TLS, htpasswd auth) on a free loopback port, and a proxy that injects failures.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { X509Certificate, createPrivateKey, randomUUID, sign } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { haveCommand, skipOrFail } from './helpers.js';

export const PLAIN_REGISTRY = '127.0.0.1:5000';

let plainUp: boolean | undefined;

/** Skips (fails in CI) unless the plain registry answers on 127.0.0.1:5000 (make test starts it as root). */
export function needRegistry(ctx: Mocha.Context): void {
  for (const c of ['docker-registry', 'curl']) if (!haveCommand(c)) skipOrFail(ctx, `${c} is not installed`);
  plainUp ??= spawnSync('curl', ['-fsS', '-o', '/dev/null', '--max-time', '5', `http://${PLAIN_REGISTRY}/v2/`], { stdio: 'ignore' }).status === 0;
  if (!plainUp) skipOrFail(ctx, `no registry answers on http://${PLAIN_REGISTRY}/v2/ (make test starts it as root)`);
}

/** Skips (fails in CI) unless startRegistry can run: the registry, openssl for TLS, htpasswd for auth. */
export function needPrivateRegistry(ctx: Mocha.Context): void {
  for (const c of ['docker-registry', 'openssl', 'htpasswd']) if (!haveCommand(c)) skipOrFail(ctx, `${c} is not installed`);
}

export interface TestRegistry {
  /** "127.0.0.1:PORT" */
  host: string;
  /** The self-signed certificate (PEM file), when tls. */
  caFile?: string;
  /** A directory holding ca.crt, for skopeo --cert-dir, when tls. */
  certDir?: string;
  dir: string;
  stop(): Promise<void>;
}

// Registries a test forgot to stop must not outlive mocha.
const live = new Set<ChildProcess>();
process.once('exit', () => { for (const c of live) c.kill('SIGKILL'); });

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function must(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr || r.error?.message}`);
  return r.stdout;
}

/** Any HTTP answer to GET /v2/ (200, or 401 with auth) means the registry is serving. */
function answers(url: string, ca?: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const req = (ca ? https : http).get(url, { ca, timeout: 1000, agent: false }, (res) => { res.resume(); resolve(true); });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}

/** A private docker-registry on a free loopback port, in its own temp dir; stop() removes both. */
export async function startRegistry(opts: { tls?: boolean; auth?: { user: string; password: string }; token?: { user: string; password: string } } = {}): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'elfpack-registry-'));
  const host = `127.0.0.1:${await freePort()}`;
  const q = JSON.stringify; // a JSON string is a YAML string, whatever the temp path holds
  // distribution 2.x wants "version: 0.1" and keeps delete under storage.
  let config = `version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: ${q(join(dir, 'data'))}
  delete:
    enabled: true
http:
  addr: ${host}
`;
  let caFile: string | undefined;
  let certDir: string | undefined;
  let ca: Buffer | undefined;
  if (opts.tls) {
    caFile = join(dir, 'cert.pem');
    must('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', caFile], dir);
    ca = readFileSync(caFile);
    certDir = join(dir, 'certs');
    mkdirSync(certDir);
    writeFileSync(join(certDir, 'ca.crt'), ca);
    config += `  tls:\n    certificate: ${q(caFile)}\n    key: ${q(join(dir, 'key.pem'))}\n`;
  }
  if (opts.auth) {
    // htpasswd auth in the registry accepts bcrypt entries only (-B).
    writeFileSync(join(dir, 'htpasswd'), must('htpasswd', ['-Bbn', opts.auth.user, opts.auth.password], dir));
    config += `auth:\n  htpasswd:\n    realm: elfpack-test\n    path: ${q(join(dir, 'htpasswd'))}\n`;
  }
  let tokenServer: http.Server | undefined;
  if (opts.token) {
    const t = await startTokenServer(dir, opts.token);
    tokenServer = t.server;
    config += `auth:\n  token:\n    realm: ${q(t.realm)}\n    service: elfpack-test\n    issuer: elfpack-test-issuer\n    rootcertbundle: ${q(t.certFile)}\n`;
  }
  writeFileSync(join(dir, 'config.yml'), config);

  // REGISTRY_* variables override the config file; none from the caller's environment.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REGISTRY_')));
  const log = join(dir, 'registry.log');
  const fd = openSync(log, 'a');
  const child = spawn('docker-registry', ['serve', 'config.yml'], { cwd: dir, env, stdio: ['ignore', fd, fd], detached: false });
  closeSync(fd);
  live.add(child);
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('close', () => { exited = true; live.delete(child); resolve(); }));
  child.once('error', () => { /* reported through 'close' and the log */ });

  const stop = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exit;
      clearTimeout(t);
    }
    if (tokenServer) await new Promise<void>((resolve) => { tokenServer!.closeAllConnections(); tokenServer!.close(() => resolve()); });
    rmSync(dir, { recursive: true, force: true });
  };

  const url = `${opts.tls ? 'https' : 'http'}://${host}/v2/`;
  for (const deadline = Date.now() + 20_000; Date.now() < deadline && !exited;) {
    if (await answers(url, ca)) return { host, caFile, certDir, dir, stop };
    await new Promise((r) => setTimeout(r, 100));
  }
  const tail = readFileSync(log, 'utf8').split('\n').slice(-20).join('\n');
  await stop();
  throw new Error(`docker-registry on ${host} ${exited ? 'exited' : 'did not answer in 20 s'}:\n${tail}`);
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/**
 * The bearer-token flow of Docker Hub and most registries (distribution's "token" auth): a token
 * server checking basic credentials and granting the scopes asked for, as a JWT signed with a key
 * whose certificate (sent in x5c) the registry trusts.
 */
async function startTokenServer(dir: string, user: { user: string; password: string }): Promise<{ server: http.Server; realm: string; certFile: string }> {
  const keyFile = join(dir, 'token-key.pem');
  const certFile = join(dir, 'token-cert.pem');
  must('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=elfpack-test-issuer', '-keyout', keyFile, '-out', certFile], dir);
  const key = createPrivateKey(readFileSync(keyFile));
  const der = new X509Certificate(readFileSync(certFile)).raw;
  const expected = `Basic ${Buffer.from(`${user.user}:${user.password}`).toString('base64')}`;
  const server = http.createServer((req, res) => {
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"bad credentials"}');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://x');
    // Repositories under readonly/ may be pulled, never pushed: a scope the registry then lacks.
    const access = url.searchParams.getAll('scope').map((s) => {
      const [type, name, actions] = s.split(':');
      return { type, name, actions: actions.split(',').filter((a) => !(name.startsWith('readonly/') && a !== 'pull')) };
    });
    const now = Math.floor(Date.now() / 1000);
    const head = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', x5c: [der.toString('base64')] }));
    const claims = b64url(JSON.stringify({ iss: 'elfpack-test-issuer', sub: user.user, aud: url.searchParams.get('service'), exp: now + 300, nbf: now - 10, iat: now, jti: randomUUID(), access }));
    const token = `${head}.${claims}.${b64url(sign('sha256', Buffer.from(`${head}.${claims}`), key))}`;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, expires_in: 300 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, realm: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/token`, certFile };
}

export interface FlakyProxy {
  /** "127.0.0.1:PORT" */
  host: string;
  /** Every request in arrival order; status is 0 while it is being forwarded. */
  requests: { method: string; url: string; status: number | 'dropped' }[];
  stop(): Promise<void>;
}

/**
 * A plain-HTTP proxy in front of a registry that fails every failEvery-th request (from 1):
 * '500' answers a registry-style error without forwarding, 'drop' closes the connection unanswered.
 */
export async function startFlakyProxy(target: string, opts: { failEvery?: number; mode?: '500' | 'drop' } = {}): Promise<FlakyProxy> {
  const [targetHost, targetPort] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const requests: FlakyProxy['requests'] = [];
  const agent = new http.Agent({ keepAlive: true });
  let count = 0;
  let self = '';

  const server = http.createServer((req, res) => {
    const entry: FlakyProxy['requests'][number] = { method: req.method ?? '', url: req.url ?? '', status: 0 };
    requests.push(entry);
    if (opts.failEvery && ++count % opts.failEvery === 0) {
      if (opts.mode === 'drop') {
        entry.status = 'dropped';
        req.socket.destroy();
        return;
      }
      entry.status = 500;
      // Read the whole body first so the client sees the answer, not a reset mid-upload.
      req.resume();
      req.once('end', () => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end('{"errors":[{"code":"UNKNOWN","message":"injected failure"}]}');
      });
      return;
    }
    const up = http.request({ host: targetHost, port: targetPort, method: req.method, path: req.url, agent, headers: { ...req.headers, host: target } }, (ur) => {
      entry.status = ur.statusCode ?? 0;
      const headers = { ...ur.headers };
      // The registry writes absolute upload URLs with the Host it saw: send the client back here.
      const loc = headers.location;
      if (loc?.startsWith(`http://${target}/`)) headers.location = `http://${self}${loc.slice(`http://${target}`.length)}`;
      res.writeHead(ur.statusCode ?? 502, headers);
      ur.pipe(res);
    });
    up.on('error', (e) => {
      if (res.headersSent) { res.destroy(); return; }
      entry.status = 502;
      res.writeHead(502, { 'content-type': 'text/plain' }).end(`flaky proxy: ${e.message}\n`);
    });
    req.pipe(up);
  });

  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.0.1', resolve); });
  self = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return {
    host: self,
    requests,
    stop: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      agent.destroy();
    },
  };
}
