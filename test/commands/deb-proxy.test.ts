// elfpack deb through a forward proxy, as a build farm's: http_proxy from the environment, the
// real archive behind it (the host's apt sources, deb.debian.org), every InRelease asked of it.
import { expect } from 'chai';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_KEYRING } from '../../src/deb/signature.js';
import { forwardProxy, type ForwardProxy } from '../support/forward-proxy.js';
import { haveCommand, runCli, skipOrFail } from '../support/helpers.js';

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

  it('jq --plan with http_proxy (credentials in it): the proxy is asked for each suite\'s InRelease, the credentials are never printed', async function () {
    if (!haveCommand('gpgv') || !existsSync(DEFAULT_KEYRING)) skipOrFail(this, 'gpgv or the Debian archive keyring is missing (make deps installs them)');
    try {
      const probe = await fetch('http://deb.debian.org/debian/dists/bookworm/InRelease', { method: 'HEAD', signal: AbortSignal.timeout(15_000) });
      if (!probe.ok) skipOrFail(this, `the Debian archive answers ${probe.status}`);
    } catch (err) {
      skipOrFail(this, `the Debian archive is unreachable: ${(err as Error).message}`);
    }
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
    expect(r.stderr).to.include(`elfpack: proxy: http via ${proxy.url}; not for localhost\n`);
    expect(r.stderr + r.stdout).to.not.match(/s3cr3t/);
  });
});
