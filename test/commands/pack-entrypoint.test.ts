// --entrypoint: the image's ENTRYPOINT when it is not the program (a script run by it), checked
// like the program before anything is written.
import { expect } from 'chai';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dockerRmi, dockerRun, needEngine } from '../support/engine.js';
import { fixture, runCli } from '../support/helpers.js';

describe('pack --entrypoint', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'elfpack-entrypoint-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a script --add\'ed beside its interpreter is the ENTRYPOINT, and the image runs it', async function () {
    needEngine(this);
    const script = join(dir, 'greet');
    writeFileSync(script, '#!/bin/dash\necho "greetings from $0"\n');
    chmodSync(script, 0o755);
    const tag = `elfpack-test-entrypoint:${process.pid}`;
    const r = await runCli(['/bin/dash', '--add', `${script}:/usr/local/bin/greet`, '--entrypoint', '/usr/local/bin/greet', '--tag', tag, '--load', '--json']);
    expect(r.code, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout).entrypoint).to.deep.equal(['/usr/local/bin/greet']);
    try {
      const ran = dockerRun(tag);
      expect([ran.status, ran.stdout.toString()], ran.stderr).to.deep.equal([0, 'greetings from /usr/local/bin/greet\n']);
    } finally {
      dockerRmi(tag);
    }
  });

  it('an ENTRYPOINT not in the image, or whose #! interpreter is not, fails the pack in one line and writes nothing', async function () {
    const out = join(dir, 'x.tar');
    const missing = await runCli([fixture(this, 'glibc/hello'), '--entrypoint', '/nowhere/app', '--out', out]);
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.match(/the image would not start.*\/nowhere\/app/);
    const script = join(dir, 'run.sh');
    writeFileSync(script, '#!/bin/bash\nexit 0\n');
    const noInterp = await runCli([fixture(this, 'glibc/hello'), '--add', `${script}:/run.sh`, '--entrypoint', '/run.sh', '--out', out]);
    expect(noInterp.code).to.equal(1);
    expect(noInterp.stderr).to.match(/\/run\.sh: its interpreter \/bin\/bash is not in the image/);
    const relative = await runCli([fixture(this, 'glibc/hello'), '--entrypoint', 'app', '--out', out]);
    expect([relative.code, relative.stderr]).to.deep.equal([2, 'elfpack: --entrypoint app: want an absolute path in the image\n']);
    expect(existsSync(out)).to.equal(false);
  });
});
