// A builder image in the real engine as the root: its filesystem is exported once (the container
// is never started), cached by image ID, and packed from; --load puts the result in the engine.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture, REPO, runCli } from '../support/helpers.js';
import { dockerRmi, dockerRun, needEngine, run } from '../support/engine.js';

describe('container-root: --from-image and --load, against the engine', function () {
  this.timeout(180_000);
  let dir: string;
  const builder = 'elfpack-test-confbuilder:1';
  const packed = 'elfpack-test-fromimage:1';
  const onlyBuilder = 'elfpack-test-onlybuilder:1';
  const onlyPacked = 'elfpack-test-onlypacked:1';
  before(function () {
    needEngine(this);
    dir = mkdtempSync(join(tmpdir(), 'elfpack-builder-'));
    // A root whose library lives only in it (/opt/conflib, known through its ld.so.conf).
    const root = fixture(this, 'confroot');
    expect(run('sh', ['-c', `tar -C ${root} -c . | docker import - ${builder}`]).status).to.equal(0);
  });
  after(() => {
    dockerRmi(builder);
    dockerRmi(packed);
    dockerRmi(onlyBuilder);
    dockerRmi(onlyPacked);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ldd and pack resolve inside a builder image; --load alone leaves no file and the image runs', async function () {
    const env = { XDG_CACHE_HOME: join(dir, 'cache') };
    const l = await runCli(['ldd', '--from-image', builder, '/usr/bin/app-conf'], { env });
    expect(l.code, l.stderr).to.equal(0);
    expect(l.stdout).to.include('libconf.so.1 => /opt/conflib/libconf.so.1');
    expect(readdirSync(join(dir, 'cache/elfpack/images'))).to.have.length(1);
    const p = await runCli(['/usr/bin/app-conf', '--from-image', builder, '--load', '--tag', packed, '--bare'], { env, cwd: dir });
    expect(p.code, p.stderr).to.equal(0);
    expect(p.stderr).to.include(`loaded ${packed} into the engine`);
    expect(readdirSync(dir)).to.deep.equal(['cache']);
    const r = dockerRun(packed);
    expect(r.stdout.toString(), r.stderr).to.match(/^hello from ld\.so\.conf/);
    expect(run('docker', ['ps', '-aq', '--filter', `ancestor=${builder}`]).stdout.trim()).to.equal('');
  });

  it('a library that exists only in the builder image: packed from it, the image runs', async function () {
    // Built here, imported, then deleted: after this, libbuilderonly.so.1 is nowhere on the host
    // outside the engine's own storage.
    const build = join(dir, 'only');
    const lib = join(build, 'usr/lib/x86_64-linux-gnu');
    mkdirSync(lib, { recursive: true });
    mkdirSync(join(build, 'lib64'));
    mkdirSync(join(build, 'usr/bin'));
    writeFileSync(join(build, 'lib.c'), 'const char *only(void) { return "hello from a builder-only library"; }\n');
    writeFileSync(join(build, 'app.c'), '#include <stdio.h>\nconst char *only(void);\nint main(void) { puts(only()); return 0; }\n');
    expect(run('gcc', ['-shared', '-fPIC', '-Wl,-soname,libbuilderonly.so.1', '-o', join(lib, 'libbuilderonly.so.1'), join(build, 'lib.c')]).status).to.equal(0);
    expect(run('gcc', ['-o', join(build, 'usr/bin/app'), join(build, 'app.c'), `-L${lib}`, '-l:libbuilderonly.so.1']).status).to.equal(0);
    copyFileSync('/lib64/ld-linux-x86-64.so.2', join(build, 'lib64/ld-linux-x86-64.so.2'));
    copyFileSync('/lib/x86_64-linux-gnu/libc.so.6', join(lib, 'libc.so.6'));
    expect(run('sh', ['-c', `tar -C ${build} -c lib64 usr | docker import - ${onlyBuilder}`]).status).to.equal(0);
    rmSync(build, { recursive: true, force: true });
    expect(run('sh', ['-c', 'find / -xdev -path /var/lib/docker -prune -o -name libbuilderonly.so.1 -print 2>/dev/null | head -1']).stdout).to.equal('');
    const p = await runCli(['/usr/bin/app', '--from-image', onlyBuilder, '--load', '--tag', onlyPacked, '--bare'], { env: { XDG_CACHE_HOME: join(dir, 'cache') }, cwd: dir });
    expect(p.code, p.stderr).to.equal(0);
    const r = dockerRun(onlyPacked);
    expect([r.status, r.stdout.toString()], r.stderr).to.deep.equal([0, 'hello from a builder-only library\n']);
  });

  it('an image the engine does not have, and an engine that is not there, are one clear line each', async function () {
    const r = await runCli(['ldd', '--from-image', 'elfpack-test-nosuch:1', '/x'], { env: { XDG_CACHE_HOME: join(dir, 'cache') } });
    expect([r.code, r.stderr]).to.deep.equal([1, 'elfpack: elfpack-test-nosuch:1: no such image in the engine (nothing is pulled: docker load or build it first)\n']);
    const out = join(dir, 'never.tar');
    const s = spawnSync(process.execPath, [join(REPO, 'bin/elfpack'), fixture(this, 'glibc/hello'), '--load', '--out', out], { encoding: 'utf8', env: { ...process.env, DOCKER_HOST: 'unix:///nonexistent/docker.sock' } });
    expect(s.status).to.equal(1);
    expect(s.stderr).to.match(/^elfpack: --load: cannot reach the Docker engine \(ENOENT; is dockerd running/);
    expect(existsSync(out)).to.equal(false);
  });
});
