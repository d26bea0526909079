// elfpack deb offline: after one run through an archive, the cache alone rebuilds the same image,
// byte for byte, once the archive is gone (the "offline after the first run").
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_KEYRING } from '../../src/deb/signature.js';
import { archiveProxy, hostArchiveUrl, type ArchiveProxy } from '../support/archive-proxy.js';
import { haveCommand, runCli, skipOrFail } from '../support/helpers.js';

const SUITE = 'bookworm';
const REAL = hostArchiveUrl(SUITE);

describe('elfpack deb offline: the cache rebuilds the same image once the archive is gone', function () {
  this.timeout(300_000);
  let dir: string;
  let proxy: ArchiveProxy | undefined;
  before(function () {
    if (!haveCommand('gpgv') || !existsSync(DEFAULT_KEYRING)) skipOrFail(this, 'gpgv or the Debian archive keyring is missing (make deps installs them)');
    dir = mkdtempSync(join(tmpdir(), 'elfpack-deb-offline-'));
  });
  after(async () => {
    await proxy?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('jq: a run through the archive, then the same run with nothing listening there: the same tar, byte for byte', async function () {
    proxy = await archiveProxy(REAL);
    const mirror = proxy.base;
    const env = { XDG_CACHE_HOME: join(dir, 'cache') };
    const args = (out: string) => ['deb', 'jq', '--suite', SUITE, '--mirror', mirror, '--json', '--out', join(dir, out), '--', '-n', '6*7'];
    const first = await runCli(args('online.tar'), { env });
    if (first.code !== 0 && !proxy.requests.some((p) => p.endsWith('/InRelease'))) skipOrFail(this, `the Debian archive is unreachable: ${first.stderr.trim().split('\n').pop()}`);
    expect(first.code, first.stderr).to.equal(0);
    expect(proxy.requests.filter((p) => p.endsWith('.deb')).length, 'the .debs came through the archive').to.be.greaterThan(1);
    await proxy.close();
    proxy = undefined;
    const second = await runCli(args('offline.tar'), { env });
    expect(second.code, second.stderr).to.equal(0);
    expect(second.stderr).to.match(/using the InRelease cached on/);
    expect(JSON.parse(second.stdout).imageId).to.equal(JSON.parse(first.stdout).imageId);
    const digest = (f: string) => createHash('sha256').update(readFileSync(join(dir, f))).digest('hex');
    expect(digest('offline.tar')).to.equal(digest('online.tar'));
  });
});
