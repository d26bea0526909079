// computeClosure: every file that must exist for a set of programs to load, as one graph —
// nodes (programs, libraries, interpreters), who-needs-whom edges, missing names, and every
// symlink met on the way (so a copy keeps both `libfoo.so.1` and `libfoo.so.1.2.3`).
import type { Root } from '../root/root.js';
import type { SymlinkStep } from '../root/resolve-path.js';
import type { Via } from '../resolve/loader.js';
import { Resolver, type ResolverOptions } from '../resolve/resolver.js';
import type { ElfFile } from '../elf/read-elf.js';
import { inspectEntry, loadProgram, type MissingLibrary, type ProgramLoad } from './load-program.js';

export interface ClosureNode {
  /** The real path inside the root: the node's identity. */
  realPath: string;
  /** The paths it was reached by (as loaders name them). */
  paths: string[];
  role: 'program' | 'library' | 'interpreter';
  via?: Via;
  elf: ElfFile;
}

export interface ClosureEdge {
  from: string;
  name: string;
  /** realPath of the library; undefined when it is missing. */
  to?: string;
}

export interface Closure {
  programs: ProgramLoad[];
  nodes: ClosureNode[];
  edges: ClosureEdge[];
  missing: MissingLibrary[];
  symlinks: SymlinkStep[];
}

export interface ClosureOptions extends ResolverOptions {}

/** Loads each program separately (each is its own process) and merges what they load. */
export function computeClosure(root: Root, files: string[], opts: ClosureOptions = {}, resolver = new Resolver(root, opts)): Closure {
  const programs = files.map((f) => loadProgram(resolver, inspectEntry(resolver, f)));
  return mergePrograms(programs);
}

export function mergePrograms(programs: ProgramLoad[]): Closure {
  const nodes = new Map<string, ClosureNode>();
  const edges: ClosureEdge[] = [];
  const edgeKeys = new Set<string>();
  const links = new Map<string, SymlinkStep>();
  const missing: MissingLibrary[] = [];
  for (const prog of programs) {
    for (const l of prog.file.links) links.set(l.path, l);
    if (prog.file.elf && !prog.main) {
      nodes.set(prog.file.realPath, { realPath: prog.file.realPath, paths: [prog.file.path], role: 'program', elf: prog.file.elf });
    }
    for (const o of prog.objects) {
      for (const l of o.links) links.set(l.path, l);
      const n = nodes.get(o.realPath);
      if (n) {
        if (!n.paths.includes(o.path)) n.paths.push(o.path);
      } else {
        nodes.set(o.realPath, { realPath: o.realPath, paths: [o.path], role: o.role, via: o.via === 'program' ? undefined : o.via, elf: o.elf });
      }
    }
    for (const o of prog.objects) {
      for (const d of o.deps) {
        const key = `${o.realPath}\0${d.name}`;
        if (edgeKeys.has(key)) continue;
        edgeKeys.add(key);
        edges.push({ from: o.realPath, name: d.name, to: d.target?.realPath });
      }
    }
    missing.push(...prog.missing);
  }
  return { programs, nodes: [...nodes.values()], edges, missing, symlinks: [...links.values()] };
}
