// The engine tests' common step: pack a program into a tar, check the tar with the validators
// (skopeo, umoci, podman) or not, and load it into the engine under a tag of this run.
import { expect } from 'chai';
import { join } from 'node:path';
import { dockerLoad, validateImage } from './engine.js';
import { runCli } from './helpers.js';

export interface PackAndLoadSettings {
  /** Where the tars go. */
  dir: string;
  /** Each loaded tag is added here, for the suite's after hook to remove. */
  loaded: string[];
  /** Tags are PREFIX-NAME:PID (two runs of the tests at once load different images). */
  prefix: string;
  /** Check the tar with skopeo, umoci and podman before loading it (validateImage). */
  validate?: boolean;
}

/** Packs ARGS (the program first, then flags) into DIR/NAME.tar, loads it; returns the tag and the CLI's output. */
export async function packAndLoad(s: PackAndLoadSettings, name: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const out = join(s.dir, `${name}.tar`);
  const tag = `${s.prefix}-${name}:${process.pid}`;
  const r = await runCli([...args.slice(0, 1), '--out', out, '--tag', tag, ...args.slice(1)], { env });
  expect(r.code, r.stderr).to.equal(0);
  expect(s.validate ? validateImage(out, tag) : dockerLoad(out)).to.equal(tag);
  s.loaded.push(tag);
  return { tag, out, stderr: r.stderr, stdout: r.stdout };
}
