// Temporaries a killed run leaves are found and removed by the next run, and only those: a live
// run's, another host's, and anything not named by elfpack stay.
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeStaleTemps, tempNameFor, writeFileAtomically } from '../src/temp-files.js';
import { REPO } from './support/helpers.js';

/** A PID that has certainly exited. */
function deadPid(): number {
  const r = spawnSync('sh', ['-c', 'echo $$']);
  return Number(r.stdout.toString().trim());
}

describe('temp-files: what a killed run leaves is cleaned by the next', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'elfpack-temps-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('removes files and directories of dead runs of this host; keeps live ones, other hosts\' and other names', () => {
    const host = hostname().replace(/[^A-Za-z0-9-]+/g, '-').slice(0, 40) || 'host';
    const dead = deadPid();
    // Asked for first: the first name asked for in a directory cleans it (tested below by hand).
    const live = tempNameFor(join(dir, 'img.tar'));
    writeFileSync(live, 'mine');
    const deadFile = join(dir, `.img.tar.elfpack-tmp.${host}.${dead}.abc123`);
    const deadDir = join(dir, `.rootfs.elfpack-tmp.${host}.${dead}.def456`);
    writeFileSync(deadFile, 'partial');
    mkdirSync(join(deadDir, 'usr/lib'), { recursive: true });
    writeFileSync(join(deadDir, 'usr/lib/x'), 'x');
    const other = join(dir, `.img.tar.elfpack-tmp.otherhost.${dead}.abc123`);
    writeFileSync(other, 'theirs');
    const unrelated = join(dir, `img.tar.tmp-${dead}-x`);
    writeFileSync(unrelated, 'not ours');
    expect(removeStaleTemps(dir).sort()).to.deep.equal([deadDir, deadFile].sort());
    expect(readdirSync(dir).sort()).to.deep.equal([live, other, unrelated].map((p) => p.slice(dir.length + 1)).sort());
  });

  it('the first temporary name asked for in a directory removes the dead runs\' leftovers there', () => {
    const host = hostname().replace(/[^A-Za-z0-9-]+/g, '-').slice(0, 40) || 'host';
    const deadFile = join(dir, `.x.tar.elfpack-tmp.${host}.${deadPid()}.abc123`);
    writeFileSync(deadFile, 'partial');
    tempNameFor(join(dir, 'x.tar'));
    expect(readdirSync(dir)).to.deep.equal([]);
  });

  it('a failed atomic write leaves nothing; a good one is in place with its bytes', async () => {
    const target = join(dir, 'out.bin');
    await writeFileAtomically(target, (out) => new Promise((done) => out.end('bytes', () => done())));
    expect(readdirSync(dir)).to.deep.equal(['out.bin']);
    const err = await writeFileAtomically(join(dir, 'bad.bin'), async (out) => {
      out.write('half');
      throw new Error('stopped');
    }).catch((e: Error) => e);
    expect(err?.message).to.equal('stopped');
    expect(readdirSync(dir)).to.deep.equal(['out.bin']);
  });

  it('a pack killed with SIGKILL mid-write leaves a temporary, and the next pack into that directory removes it', async () => {
    const node = process.execPath; // a program with a closure large enough to be caught writing
    const out = join(dir, 'node.tar');
    let seen: string | undefined;
    for (let attempt = 0; attempt < 5 && !seen; attempt++) {
      const child = spawn(join(REPO, 'bin/elfpack'), [node, '--out', out, '--bare'], { stdio: 'ignore' });
      const t0 = Date.now();
      while (!seen && Date.now() - t0 < 20_000 && child.exitCode === null) {
        seen = readdirSync(dir).find((n) => n.includes('.elfpack-tmp.'));
        if (!seen) await new Promise((r) => setTimeout(r, 2));
      }
      child.kill('SIGKILL');
      await new Promise((r) => child.exitCode !== null || child.signalCode !== null ? r(null) : child.on('exit', r));
      if (existsSync(out)) rmSync(out);
      seen = readdirSync(dir).find((n) => n.includes('.elfpack-tmp.'));
    }
    expect(seen, 'a temporary seen while the pack was writing').to.be.a('string');
    const r = spawnSync(join(REPO, 'bin/elfpack'), ['/bin/true', '--out', join(dir, 'true.tar'), '--bare']);
    expect(r.status, r.stderr.toString()).to.equal(0);
    expect(readdirSync(dir)).to.deep.equal(['true.tar']);
  });
});
