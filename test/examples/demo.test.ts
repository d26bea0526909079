// make demo's script: the main job, shown on this machine (with the engine, and without it).
import { expect } from 'chai';
import { resolve } from 'node:path';
import { needEngine, run } from '../support/engine.js';
import { needCommand } from '../support/helpers.js';

const REPO = resolve(import.meta.dirname, '../../..');

describe('examples/demo.sh (make demo)', function () {
  this.timeout(180_000);
  before(function () {
    for (const c of ['gcc', 'go']) needCommand(this, c);
  });

  it('with the engine: ldd, pack, sizes, both images run, and doctor explains the broken one', function () {
    needEngine(this);
    const r = run('bash', [`${REPO}/examples/demo.sh`], { env: { ...process.env, NO_COLOR: '1' } });
    expect(r.status, r.stderr).to.equal(0);
    const out = r.stdout + r.stderr;
    for (const want of [
      /\$ elfpack ldd \$W\/hello \n\tlibc\.so\.6 => /,
      /\$ elfpack go \.\/testdata\/programs\/go\/server --tag elfpack-demo-server:1 --out \$W\/server\.tar --load/,
      /hello \(C, glibc\) +\d+(\.\d+)?KB +\d+(\.\d+)?MB +\d+(\.\d+)?MB\n/,
      /\nhello from glibc-dynamic\n/,
      /\nserver linux\/amd64\n/,
      /exec \/app: no such file or directory/,
      /its loader \/lib64\/ld-linux-x86-64\.so\.2 \(PT_INTERP\) is not in the image/,
    ]) expect(out).to.match(want);
    expect(run('docker', ['image', 'inspect', 'elfpack-demo-broken:1']).status).to.not.equal(0);
    run('docker', ['rmi', '-f', 'elfpack-demo-hello:1', 'elfpack-demo-server:1']);
  });

  it('without an engine it still packs, says how to load, and doctor reads the broken directory', function () {
    const r = run('bash', [`${REPO}/examples/demo.sh`], { env: { ...process.env, NO_COLOR: '1', DOCKER_HOST: 'unix:///nonexistent/docker.sock' } });
    expect(r.status, r.stderr).to.equal(0);
    const out = r.stdout + r.stderr;
    expect(out).to.match(/No Docker engine here: load and run them elsewhere with\n {2}docker load -i hello\.tar/);
    expect(out).to.match(/\$ elfpack doctor \$W\/broken --entrypoint \/app/);
    expect(out).to.match(/2 problems: the container would not start/);
  });
});
