// elfpack deb through a forward proxy, as a build farm's: http_proxy from the environment, the
// real archive behind it (the host's apt sources, deb.debian.org), every InRelease asked of it.
import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planDeb } from '../../src/commands/deb-plan.js';
import { DEFAULT_KEYRING } from '../../src/deb/signature.js';
import { forwardProxy, type ForwardProxy } from '../support/forward-proxy.js';
import { haveCommand, refusal, runCli, skipOrFail } from '../support/helpers.js';

describe('elfpack deb through an HTTP proxy', function () {
  this.timeout(180_000);
  let cache: string | undefined;
  let proxy: ForwardProxy | undefined;
  after(async () => {
    await proxy?.close();
    if (cache) rmSync(cache, { recursive: true, force: true });
  });

  it('HTTP_PROXY in upper case is not read (curl ignores it: a CGI request can set it)', async () => {
    cache = mkdtempSync(join(tmpdir(), 'elfpack-deb-proxy-'));
    const r = await runCli(['deb', 'jq', '--plan', '--suite', 'bookworm', '--mirror', 'http://127.0.0.1:1/debian'], { env: { XDG_CACHE_HOME: cache, HTTP_PROXY: 'socks5://proxy.corp:1080' } });
    expect(r.code).to.not.equal(0);
    expect(r.stderr).to.not.match(/proxy/i);
    expect(r.stderr).to.match(/ECONNREFUSED/);
  });

  /** Skips (fails under CI=true) without gpgv, the keyring or the archive. */
  async function needArchive(ctx: Mocha.Context): Promise<void> {
    if (!haveCommand('gpgv') || !existsSync(DEFAULT_KEYRING)) skipOrFail(ctx, 'gpgv or the Debian archive keyring is missing (make deps installs them)');
    try {
      const probe = await fetch('http://deb.debian.org/debian/dists/bookworm/InRelease', { method: 'HEAD', signal: AbortSignal.timeout(15_000) });
      if (!probe.ok) skipOrFail(ctx, `the Debian archive answers ${probe.status}`);
    } catch (err) {
      skipOrFail(ctx, `the Debian archive is unreachable: ${(err as Error).message}`);
    }
  }

  it('jq --plan with http_proxy (credentials in it): the proxy is asked for each suite\'s InRelease, the credentials are never printed', async function () {
    await needArchive(this);
    proxy = await forwardProxy({ authorization: `Basic ${Buffer.from('builder:s3cr3t pw').toString('base64')}` });
    cache ??= mkdtempSync(join(tmpdir(), 'elfpack-deb-proxy-'));
    const r = await runCli(['deb', 'jq', '--plan', '--json', '--suite', 'bookworm'], {
      env: { XDG_CACHE_HOME: cache, http_proxy: `http://builder:s3cr3t%20pw@127.0.0.1:${proxy.port}`, no_proxy: 'localhost' },
    });
    expect(r.code, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout).packages.map((p: { name: string }) => p.name)).to.include('jq');
    const inReleases = proxy.asked.filter((a) => a.method === 'GET' && a.target.endsWith('/InRelease'));
    // The host's sources may name another mirror; the bookworm InRelease is asked for wherever it is.
    expect(inReleases.map((a) => a.target)).to.satisfy((t: string[]) => t.some((u) => /^http:\/\/[^/]+\/.*dists\/bookworm\/InRelease$/.test(u)));
    for (const a of inReleases) expect(a.host).to.equal(new URL(a.target).host);
    expect(r.stderr).to.include(`elfpack: proxy: http via ${proxy.url} (from the environment); not for localhost\n`);
    expect(r.stderr + r.stdout).to.not.match(/s3cr3t/);
  });

  it('planDeb with a host whose apt.conf.d sets Acquire::http::Proxy: the proxy is asked for the InRelease, over an env proxy that is not there', async function () {
    await needArchive(this);
    const aptProxy = await forwardProxy();
    const host = mkdtempSync(join(tmpdir(), 'elfpack-deb-aptconf-'));
    const progress: string[] = [];
    try {
      mkdirSync(join(host, 'etc/apt/apt.conf.d'), { recursive: true });
      writeFileSync(join(host, 'etc/apt/sources.list'), 'deb http://deb.debian.org/debian bookworm main\n');
      writeFileSync(join(host, 'etc/apt/apt.conf.d/01proxy'), `Acquire { http { Proxy "${aptProxy.url}/"; }; };\n`);
      writeFileSync(join(host, 'etc/apt/apt.conf.d/01proxy.bak'), 'Acquire::http::Proxy "http://127.0.0.1:1/";\n');
      const { plan, archives } = await planDeb({
        packages: ['jq'], suite: 'bookworm', arch: 'amd64', cacheDir: join(host, 'cache'), hostDir: host,
        proxy: { http: 'http://127.0.0.1:1' }, // apt.conf's wins, as in apt: this one would refuse
        onProgress: (l) => progress.push(l),
      });
      await archives.close();
      expect(plan.packages.map((p) => p.name)).to.include('jq');
      expect(aptProxy.asked.map((a) => `${a.method} ${a.target}`)).to.include('GET http://deb.debian.org/debian/dists/bookworm/InRelease');
      expect(progress).to.include(`proxy: http via ${aptProxy.url} (from /etc/apt/apt.conf.d/01proxy), https via ${aptProxy.url} (from /etc/apt/apt.conf.d/01proxy)`);
    } finally {
      await aptProxy.close();
      rmSync(host, { recursive: true, force: true });
    }
  });
  it('an apt.conf elfpack cannot parse is a warning naming file:line, not the end of the run (apt.conf is read for its proxies only)', async () => {
    const host = mkdtempSync(join(tmpdir(), 'elfpack-deb-aptconf-bad-'));
    const warnings: string[] = [];
    try {
      mkdirSync(join(host, 'etc/apt/apt.conf.d'), { recursive: true });
      writeFileSync(join(host, 'etc/apt/apt.conf.d/10broken'), 'Acquire::http::Proxy "http://p:3128/" junk;\n');
      // Nothing listens at the mirror: the run ends there, after the warning, as any unreachable archive ends it.
      const err = await refusal(planDeb({ packages: ['jq'], suite: 'bookworm', arch: 'amd64', cacheDir: join(host, 'cache'), hostDir: host, mirror: 'http://127.0.0.1:1/debian', onWarning: (l) => warnings.push(l) }));
      expect(err.message).to.match(/connection refused/);
      expect(warnings).to.include("/etc/apt/apt.conf.d/10broken:1: syntax error: extra junk after value; apt's configuration is not used, nor any proxy it sets");
    } finally {
      rmSync(host, { recursive: true, force: true });
    }
  });
});
