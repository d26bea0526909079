// Before an image is written, its entrypoint is loaded again inside the image's own files, as the
// loader in the container will: anything that would be missing there stops the pack.
import { ElfpackError } from '../errors.js';
import { inspectEntry, loadProgram } from '../closure/load-program.js';
import { Resolver } from '../resolve/resolver.js';
import type { FileTree } from './file-tree.js';
import { TreeRoot } from './tree-root.js';

export interface SelfCheckOptions {
  /** LD_LIBRARY_PATH the image's config sets, if any. */
  libraryPath?: string;
  workdir?: string;
}

/** Problems, one line each: empty when every file loads inside the image. */
export function checkImage(tree: FileTree, files: string[], opts: SelfCheckOptions = {}): string[] {
  const resolver = new Resolver(new TreeRoot(tree), { libraryPath: opts.libraryPath, hwcaps: [], cwd: opts.workdir ?? '/' });
  const problems: string[] = [];
  for (const file of files) {
    try {
      const entry = inspectEntry(resolver, file);
      if (entry.script) {
        const interp = resolver.probe(entry.script.interpreter);
        if (interp.missing) problems.push(`${file}: its interpreter ${entry.script.interpreter} is not in the image`);
        continue;
      }
      const load = loadProgram(resolver, entry);
      for (const m of load.missing) problems.push(`${m.neededBy}: ${m.name} ${m.error ? `cannot be loaded (${m.error})` : 'would not be found'}`);
    } catch (err) {
      problems.push(err instanceof ElfpackError ? err.describe() : `${file}: ${(err as Error).message}`);
    }
  }
  return problems;
}
