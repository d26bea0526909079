// Before an image is written, its entrypoint is loaded again inside the image's own files, as the
// loader in the container will: anything that would be missing there stops the pack. A name an
// included library needs that the program loads earlier by path (loaded-by-path.ts) is a warning.
import { ElfpackError } from '../errors.js';
import { inspectEntry, loadProgram } from '../closure/load-program.js';
import { Resolver } from '../resolve/resolver.js';
import type { FileTree } from './file-tree.js';
import { indexLibraries, loadedByPathWarnings, splitLoadedByPath, type AssumedLoad, type LoadedByPathOptions } from './loaded-by-path.js';
import { TreeRoot } from './tree-root.js';

export interface SelfCheckOptions extends LoadedByPathOptions {
  /** LD_LIBRARY_PATH the image's config sets, if any. */
  libraryPath?: string;
  workdir?: string;
}

export interface SelfCheckResult {
  /** One line each: the image would not start. */
  problems: string[];
  /** One line each: what the image relies on that the check cannot prove. */
  warnings: string[];
}

/** Loads each file inside the image; problems are empty when every file loads there. */
export function selfCheck(tree: FileTree, files: string[], opts: SelfCheckOptions = {}): SelfCheckResult {
  const resolver = new Resolver(new TreeRoot(tree), { libraryPath: opts.libraryPath, hwcaps: [], cwd: opts.workdir ?? '/' });
  const problems: string[] = [];
  const assumed: AssumedLoad[] = [];
  let libraries: ReturnType<typeof indexLibraries> | undefined;
  for (const file of files) {
    try {
      const entry = inspectEntry(resolver, file);
      if (entry.script) {
        const interp = resolver.probe(entry.script.interpreter);
        if (interp.missing) problems.push(`${file}: its interpreter ${entry.script.interpreter} is not in the image`);
        continue;
      }
      const load = loadProgram(resolver, entry);
      let missing = load.missing;
      if (missing.length) {
        // Built when first needed: most images have no missing name at all.
        libraries ??= indexLibraries(resolver, files);
        const split = splitLoadedByPath(load, libraries);
        missing = split.missing;
        assumed.push(...split.assumed);
      }
      for (const m of missing) problems.push(`${m.neededBy}: ${m.name} ${m.error ? `cannot be loaded (${m.error})` : 'would not be found'}`);
    } catch (err) {
      problems.push(err instanceof ElfpackError ? err.describe() : `${file}: ${(err as Error).message}`);
    }
  }
  return { problems, warnings: loadedByPathWarnings(assumed, opts) };
}

/** The problems of selfCheck alone. */
export function checkImage(tree: FileTree, files: string[], opts: SelfCheckOptions = {}): string[] {
  return selfCheck(tree, files, opts).problems;
}
