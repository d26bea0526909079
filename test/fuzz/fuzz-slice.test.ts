// A short fixed-seed slice of `make fuzz`: the same mutants on every run, so a failure here is
// reproduced by `node dist/test/fuzz/fuzz.js --seed 20261202 --elf 500 --images 150`.
import { expect } from 'chai';
import { judge } from './check.js';
import { runFuzz } from './fuzz.js';

describe('fuzz: mutated ELF files and images through ldd --json (fixed seed)', function () {
  this.timeout(300_000);

  it('the judge calls a bug a bug: exit 2, an internal error, a JavaScript message, a stack, two lines of refusal, a raw control character, a document that disagrees with the exit status', () => {
    const doc = (ok: boolean) => JSON.stringify({ schema: 'elfpack.ldd/v1', ok, files: [{ status: 'dynamic' }] });
    expect(judge({ code: 1, stdout: '', stderr: 'elfpack: img.tar: the tar stream is truncated\n' })).to.equal(undefined);
    expect(judge({ code: 0, stdout: doc(true), stderr: '' })).to.equal(undefined);
    expect(judge({ code: 2, stdout: '', stderr: 'elfpack: x\n' })).to.match(/exit status 2/);
    expect(judge({ code: 1, stdout: '', stderr: 'elfpack: internal error: boom\n' })).to.match(/internal error/);
    expect(judge({ code: 1, stdout: '', stderr: 'elfpack: img: Cannot read properties of null\n' })).to.match(/Cannot read/);
    expect(judge({ code: 1, stdout: '', stderr: 'elfpack: a\nelfpack: b\n' })).to.match(/2 lines/);
    expect(judge({ code: 1, stdout: '', stderr: 'elfpack: a\x1b[2J\n' })).to.match(/control character/);
    expect(judge({ code: 1, stdout: '', stderr: 'elfpack: a\n    at readElf (x.js:1:1)\n' })).to.match(/stderr/);
    expect(judge({ code: 0, stdout: doc(false), stderr: '' })).to.match(/ok is false/);
    expect(judge({ code: 0, stdout: '{"schema":"elfpack.ldd/v1","ok":true,"files":[{"status":"weird"}]}', stderr: '' })).to.match(/status weird/);
    expect(judge({ code: 0, stdout: 'not json', stderr: '' })).to.match(/not JSON/);
  });

  it('500 ELF mutants and 150 image mutants: every run is an answer or one clear refusal', async () => {
    const r = await runFuzz({ seed: 20261202, elf: 500, images: 150, jobTimeoutMs: 60_000 });
    expect(r.failures.map((f) => `job ${f.id}: ${f.reason}`)).to.deep.equal([]);
    // The slice reaches the checks it is meant to: refusals of several kinds, and images that open.
    expect(r.outcomes.get('(answered)') ?? 0).to.be.above(10);
    expect(r.outcomes.size).to.be.above(10);
  });
});
