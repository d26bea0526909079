import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { compareDebVersions, parseDebVersion, satisfiesRelation, type DebRelation } from '../../src/deb/version.js';
import { needCommand } from '../support/helpers.js';

/** A small deterministic generator (mulberry32), so a failing pair can be found again. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Versions built from the pieces that exercise dpkg's rules: "~", "+", ".", letters, leading zeros, epochs, revisions. */
function generate(n: number, seed: number): string[] {
  const r = rng(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
  const pieces = ['0', '1', '2', '9', '10', '01', '001', '100', 'a', 'b', 'z', 'A', 'Z', '~', '~~', '~a', '+', '.', '+b1', '.0', 'rc1', '~rc1', '+dfsg', '+deb12u1', 'p1'];
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    let up = pick(['0', '1', '2', '10', '1.0', '2.36', '7']);
    for (let k = Math.floor(r() * 4); k > 0; k--) up += pick(pieces);
    let v = up;
    if (r() < 0.5) v += `-${pick(['1', '0', '2', '1~bpo1', '1+b1', '0.1', 'a', '9+deb12u14'])}`;
    if (r() < 0.2) v = `${pick(['0', '1', '2'])}:${v}`;
    out.push(v);
  }
  return out;
}

describe('deb/version', () => {
  it('splits epoch, upstream and revision as dpkg (the revision after the last "-")', () => {
    expect(parseDebVersion('1:2.3-4-5')).to.deep.equal({ epoch: 1, upstream: '2.3-4', revision: '5' });
    expect(parseDebVersion('2.36')).to.deep.equal({ epoch: 0, upstream: '2.36', revision: '' });
  });

  it('"~" sorts before everything, even the end; letters before other characters; digits as numbers', () => {
    expect(compareDebVersions('1.0~rc1', '1.0')).to.be.below(0);
    expect(compareDebVersions('1.0~~', '1.0~')).to.be.below(0);
    expect(compareDebVersions('1.0a', '1.0+')).to.be.below(0);
    expect(compareDebVersions('1.10', '1.9')).to.be.above(0);
    expect(compareDebVersions('1.01', '1.1')).to.equal(0);
    expect(compareDebVersions('1:0.1', '9.9')).to.be.above(0);
    expect(compareDebVersions('1.0', '1.0-0')).to.equal(0);
  });

  it('relations: << <= = >= >>, and the obsolete < and > mean <= and >=', () => {
    const cases: [string, DebRelation, string, boolean][] = [
      ['1.0', '<<', '1.1', true], ['1.1', '<<', '1.1', false], ['1.1', '<=', '1.1', true], ['1.1', '=', '1.1-0', true],
      ['1.2', '>=', '1.1', true], ['1.1', '>>', '1.1', false], ['1.1', '<', '1.1', true], ['1.1', '>', '1.1', true], ['1.0', '>', '1.1', false],
    ];
    for (const [v, rel, w, want] of cases) expect(satisfiesRelation(v, rel, w), `${v} ${rel} ${w}`).to.equal(want);
  });

  it('agrees with dpkg --compare-versions on 1500 generated pairs', function () {
    needCommand(this, 'dpkg');
    const vs = generate(1500 * 2, 17);
    const pairs: [string, string][] = [];
    for (let i = 0; i < vs.length; i += 2) pairs.push([vs[i], vs[i + 1]]);
    // One shell runs every comparison (a process per pair would take a minute): "lt", "eq" or "gt" per line.
    const script = 'while read -r a b; do if dpkg --compare-versions "$a" lt "$b"; then echo lt; elif dpkg --compare-versions "$a" eq "$b"; then echo eq; else echo gt; fi; done';
    const r = spawnSync('sh', ['-c', script], { input: pairs.map(([a, b]) => `${a} ${b}`).join('\n') + '\n', encoding: 'utf8', maxBuffer: 16 << 20 });
    expect(r.status).to.equal(0, r.stderr);
    const dpkg = r.stdout.trim().split('\n');
    expect(dpkg).to.have.length(pairs.length);
    const ours = pairs.map(([a, b]) => { const c = compareDebVersions(a, b); return c < 0 ? 'lt' : c === 0 ? 'eq' : 'gt'; });
    const wrong = pairs.flatMap(([a, b], i) => (ours[i] === dpkg[i] ? [] : [`${a} ${b}: ours ${ours[i]}, dpkg ${dpkg[i]}`]));
    expect(wrong.slice(0, 10)).to.deep.equal([]);
    // The generator must reach all three outcomes, or the agreement proves little.
    expect(new Set(dpkg)).to.deep.equal(new Set(['lt', 'eq', 'gt']));
  });
});
