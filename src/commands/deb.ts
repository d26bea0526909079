// `elfpack deb PACKAGE…`: an image straight from Debian packages, for any architecture, with no
// builder: the plan (deb-plan.ts), each .deb fetched once into the cache and checked, a root
// built from them without dpkg (root/deb-root.ts), then packed as `elfpack BIN --root` packs:
// only the program's closure and what the rules add, with the package metadata of what went in.
import { ElfpackError } from '../errors.js';
import { DbReader } from '../root/db-files.js';
import { buildDebRoot, openSavedDebRoot, type DebRoot } from '../deb/deb-root.js';
import { packageNameOf } from '../deb/resolve-deps.js';
import { planDeb, type DebPlan, type DebPlanOptions } from './deb-plan.js';
import { pack, type PackOptions, type PackResult } from './pack.js';

export { packageNameOf };

export interface DebOptions extends DebPlanOptions, Omit<PackOptions, 'root' | 'program' | 'cwd'> {
  /** The program to pack, a path in the packages' root (default: /usr/bin/NAME of the first package, else its one program there). */
  program?: string;
}

export interface DebResult {
  plan: DebPlan;
  result: PackResult;
}

export async function debPack(opts: DebOptions): Promise<DebResult> {
  const { plan, archives } = await planDeb(opts);
  let root: DebRoot | undefined;
  const rootOpts = { cacheDir: opts.cacheDir, arch: plan.arch, label: `${opts.packages.join(' ')} (${plan.suite} ${plan.arch})` };
  try {
    // The root these .debs made before, saved whole: then nothing is fetched or unpacked.
    root = openSavedDebRoot(plan.packages, { ...rootOpts, distroFiles: plan.distroFiles });
    if (root) opts.onProgress?.(`the root of these ${plan.packages.length} packages, as saved in the cache`);
    else {
      const debs = [];
      for (const [i, p] of plan.packages.entries()) {
        opts.onProgress?.(`fetching ${p.name} ${p.version} (${i + 1} of ${plan.packages.length})`);
        debs.push({ path: await archives.fetchDeb(p.suite, p.filename, p.sha256, p.size), sha256: p.sha256 });
      }
      const d = plan.distroFiles;
      const distroFiles = d && { path: await archives.fetchDeb(d.suite, d.filename, d.sha256, d.size), sha256: d.sha256 };
      opts.onProgress?.(`unpacking ${debs.length} packages`);
      root = await buildDebRoot(debs, { ...rootOpts, distroFiles });
    }
  } finally {
    await archives.close();
  }
  for (const w of root.warnings.slice(0, 20)) opts.onWarning?.(w);
  const program = opts.program ?? defaultProgram(root, opts.packages[0], plan.arch);
  const result = await pack({ ...opts, root, program, cwd: '/' });
  return { plan, result };
}

/**
 * The program named like the first package (/usr/bin/python3.11 for python3.11, whichever package
 * ships it), else that package's one program in /usr/bin (or /bin), from its dpkg file list.
 */
function defaultProgram(root: DebRoot, pkg: string, arch: string): string {
  const name = packageNameOf(pkg);
  const named = [`/usr/bin/${name}`, `/bin/${name}`].find((p) => root.lstat(p) !== undefined);
  if (named) return named;
  const reader = new DbReader(root);
  const list = [`/var/lib/dpkg/info/${name}:${arch}.list`, `/var/lib/dpkg/info/${name}.list`].find((p) => reader.realFile(p) !== undefined);
  const text = list === undefined ? undefined : reader.readText(list);
  if (text === undefined) throw new ElfpackError('USAGE', `${name} is not among the unpacked packages: name the program with --entrypoint`, { step: 'deb' });
  const programs = text.split('\n').filter((p) => /^\/(usr\/)?bin\/[^/]+$/.test(p) && root.lstat(p)?.type === 'file');
  if (programs.length !== 1) {
    throw new ElfpackError('USAGE', programs.length
      ? `${name} ships ${programs.length} programs (${programs.slice(0, 5).join(', ')}${programs.length > 5 ? ', …' : ''}): name one with --entrypoint`
      : `${name} ships no program in /usr/bin: name one with --entrypoint`, { step: 'deb' });
  }
  return programs[0];
}
