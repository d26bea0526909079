// --also: a tool set in one image (a shell with ls and jq), one closure for all: each program at
// its own path, each library once, glibc's unasked loads counted for every program.
import { expect } from 'chai';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dockerRmi, dockerRun, needEngine } from '../support/engine.js';
import { fixture, runCli, skipOrFail } from '../support/helpers.js';

describe('pack --also', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'elfpack-also-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('dash with ls and jq: each program with its libraries, libc once; the image runs all three', async function () {
    if (!existsSync('/usr/bin/jq')) skipOrFail(this, 'jq is not installed (make deps installs it)');
    needEngine(this);
    const tag = `elfpack-test-also:${process.pid}`;
    const r = await runCli(['/bin/dash', '--also', '/bin/ls', '--also', '/usr/bin/jq', '--tag', tag, '--load', '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const doc = JSON.parse(r.stdout);
    const paths: string[] = doc.files.map((f: { path: string }) => f.path);
    expect(paths).to.include.members(['/usr/bin/dash', '/usr/bin/ls', '/usr/bin/jq']);
    expect(paths.filter((p) => p.endsWith('/libc.so.6'))).to.have.length(1);
    expect(paths.some((p) => /libselinux\.so\.1$/.test(p))).to.equal(true);
    expect(paths.some((p) => /libonig\.so\.5/.test(p))).to.equal(true);
    expect(doc.entrypoint).to.deep.equal(['/bin/dash']);
    try {
      const ran = dockerRun(tag, ['-c', 'ls -d /usr/bin/jq && echo \'{"a":[1,2]}\' | jq -c .a']);
      expect([ran.status, ran.stdout.toString()], ran.stderr).to.deep.equal([0, '/usr/bin/jq\n[1,2]\n']);
    } finally {
      dockerRmi(tag);
    }
  });

  it('a program that is a script, or not executable, or missing a library, fails in one line naming it', async function () {
    const out = join(dir, 'x.tar');
    const script = await runCli([fixture(this, 'glibc/hello'), '--also', '/usr/bin/ldd', '--out', out]);
    expect(script.code).to.equal(2);
    expect(script.stderr).to.match(/^elfpack: \/usr\/bin\/ldd: is a script \(#!\/bin\/bash\)/);
    const data = await runCli([fixture(this, 'glibc/hello'), '--also', '/etc/os-release', '--out', out]);
    expect(data.code).to.not.equal(0);
    expect(data.stderr).to.match(/\/etc\/os-release/);
    expect(data.stderr.trim().split('\n')).to.have.length(1);
    expect(existsSync(out)).to.equal(false);
  });
});
