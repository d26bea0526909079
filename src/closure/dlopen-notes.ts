// What the objects of a load declare they may dlopen (their .note.dlopen, systemd.io/ELF_DLOPEN_METADATA),
// each entry's first soname that answers, found as dlopen called from the declaring object would
// find it: glibc searches from the caller (its RPATH chain unless it has RUNPATH, LD_LIBRARY_PATH, its
// RUNPATH, the cache, the default directories); musl's dlopen searches as the main program does.
import { DLOPEN_PRIORITIES, readDlopenNotes, type DlopenEntry, type DlopenNotes, type DlopenPriority } from '../elf/notes.js';
import { dirName } from '../root/resolve-path.js';
import type { Via } from '../resolve/loader.js';
import type { Resolution, Resolver, TriedCandidate } from '../resolve/resolver.js';
import { inspectEntry, loadProgram, type LoadedObject, type ProgramLoad } from './load-program.js';

/** How far `pack` follows the notes: `none`, or the lowest priority added. */
export type DlopenLevel = 'none' | DlopenPriority;
export const DLOPEN_LEVELS: readonly DlopenLevel[] = ['none', ...DLOPEN_PRIORITIES];

/** Libraries pack adds through notes, counting what those bring along with their own notes. */
export const MAX_DLOPEN_ADDED = 1024;

/** One declared dependency and what dlopen from its declarer would get. */
export interface DeclaredDlopen {
  /** The object whose note declares it: the one that calls dlopen. */
  declaredBy: LoadedObject;
  entry: DlopenEntry;
  /** The soname that answered (the first that does), when one did. */
  name?: string;
  /** Set when that name is already in the process: dlopen returns it. */
  loaded?: LoadedObject;
  /** Set when a search found it. */
  found?: Resolution;
  /** Every candidate looked at, over all the sonames. */
  tried: TriedCandidate[];
  /** Why a search stopped without a library (a directory, a file of another kind…). */
  error?: string;
}

export interface LoadDlopens {
  declared: DeclaredDlopen[];
  /** "PATH: .note.dlopen: problem" lines: malformed notes, bounds hit. Never errors. */
  warnings: string[];
}

/** Each library's notes, read once however many loads it is in (a program's are not kept: it is in one). */
export type NotesCache = Map<string, DlopenNotes>;

function notesOf(resolver: Resolver, o: LoadedObject, cache: NotesCache): DlopenNotes {
  let n = cache.get(o.realPath);
  if (n) return n;
  try {
    const src = resolver.root.open(o.realPath);
    try {
      n = readDlopenNotes(src);
    } finally {
      src.close();
    }
  } catch (err) {
    n = { entries: [], raw: [], problems: [`not read: ${(err as Error).message}`] };
  }
  if (o.role !== 'program') cache.set(o.realPath, n);
  return n;
}

/**
 * The dlopen dependencies the objects of `load` declare, each resolved. `skip` holds real paths
 * whose notes were looked at already (in another load); they are added to it.
 */
export function declaredDlopens(resolver: Resolver, load: ProgramLoad, cache: NotesCache = new Map(), skip = new Set<string>()): LoadDlopens {
  const out: LoadDlopens = { declared: [], warnings: [] };
  const profile = load.profile;
  if (!load.main || !profile) return out;
  // What dlopen would find already in the process, by each name it was loaded as, its path and SONAME.
  const inProcess = new Map<string, LoadedObject>();
  for (const o of load.objects) {
    for (const n of o.names) inProcess.set(n, o);
    inProcess.set(o.path, o);
    if (o.elf.soname) inProcess.set(o.elf.soname, o);
  }
  for (const o of load.objects) {
    if (skip.has(o.realPath)) continue;
    skip.add(o.realPath);
    const notes = notesOf(resolver, o, cache);
    for (const p of notes.problems) out.warnings.push(`${o.path}: .note.dlopen: ${p}`);
    // musl's dlopen searches with the main program as the requester (ldso/dynlink.c: load_library(file, head)).
    const requester = profile.libc === 'musl' ? load.main : o;
    for (const entry of notes.entries) {
      const d: DeclaredDlopen = { declaredBy: o, entry, tried: [] };
      for (const name of entry.sonames) {
        const hit = inProcess.get(name);
        if (hit) {
          d.name = name;
          d.loaded = hit;
          break;
        }
        const r = resolver.find(name, requester, profile);
        d.tried.push(...r.tried);
        if (r.found && r.via !== 'interp') {
          d.name = name;
          d.found = r;
          break;
        }
        if (r.found) { // musl: a libc name is the loader itself
          d.name = name;
          d.loaded = load.interp?.object;
          break;
        }
        if (r.error) d.error = r.error;
      }
      if (d.name) d.error = undefined;
      out.declared.push(d);
    }
  }
  return out;
}

/** Whether an entry of this priority is followed at this level. */
export function withinLevel(priority: DlopenPriority, level: DlopenLevel): boolean {
  return level !== 'none' && DLOPEN_PRIORITIES.indexOf(priority) <= DLOPEN_PRIORITIES.indexOf(level);
}

/** "for "plug" (Greets through a plug-in)": the entry's feature and description, when it has them. */
export function describeFeature(e: DlopenEntry): string {
  const f = e.feature ? `"${e.feature}"` : '';
  const d = e.description ? `(${e.description})` : '';
  return f || d ? ` for ${[f, d].filter(Boolean).join(' ')}` : '';
}

export type DlopenOutcomeKind = 'added' | 'loaded' | 'present' | 'not-found' | 'incomplete' | 'below-level' | 'over-limit';

/** What pack did with one entry (the JSON's `dlopen` list). */
export interface DlopenOutcome {
  declaredBy: string;
  sonames: string[];
  feature: string | null;
  description: string | null;
  priority: DlopenPriority;
  outcome: DlopenOutcomeKind;
  /** The soname that answered and the file, when one did. */
  name: string | null;
  path: string | null;
  via: Via | null;
}

/** A library pack adds because a note declares it. */
export interface DlopenAddition {
  /** One line for the summary; none when the file was in the image already. */
  reason?: string;
  /** The library as dlopen finds it: its path, links and how it was found (for the image's ld.so.cache). */
  library: LoadedObject;
  /** The dlopen itself as a load of one object, then the library's own load (its libraries) when it was added here. */
  loads: ProgramLoad[];
  /** The load whose object declares it: where the library is placed follows where that one is. */
  declaredIn: ProgramLoad;
  /** The library's own load, when it was added here. */
  own?: ProgramLoad;
  /** ELF files to check in the image (the self-check), as pack's extra ELF files are. */
  elfFiles: string[];
}

export interface DlopenPlan {
  deps: DlopenAddition[];
  warnings: string[];
  notes: string[];
  outcomes: DlopenOutcome[];
}

/**
 * The libraries to add to an image whose processes are `loads`: each entry at or above `level`
 * whose first answering soname is not in the process already, with its own closure; what those
 * declare in turn is followed too (a worklist, at most MAX_DLOPEN_ADDED libraries). A library whose
 * own libraries are missing is not added. Nothing here fails a pack: required entries that cannot
 * be added are warnings, the others notes.
 */
export function findDlopenDeps(resolver: Resolver, loads: ProgramLoad[], level: DlopenLevel): DlopenPlan {
  const plan: DlopenPlan = { deps: [], warnings: [], notes: [], outcomes: [] };
  if (level === 'none') return plan;
  const cache: NotesCache = new Map();
  const scanned = new Set<string>();
  const inImage = new Set<string>();
  for (const l of loads) for (const o of l.objects) inImage.add(o.realPath);
  const below: DlopenEntry[] = [];
  let added = 0;
  const queue = [...loads];
  for (let qi = 0; qi < queue.length; qi++) {
    const load = queue[qi];
    const { declared, warnings } = declaredDlopens(resolver, load, cache, scanned);
    plan.warnings.push(...warnings);
    for (const d of declared) {
      const e = d.entry;
      const by = d.declaredBy.path;
      const declares = `${by}'s .note.dlopen declares it ${e.priority}${describeFeature(e)}`;
      const what = `${d.name ?? e.sonames.join(' or ')}: ${declares}`;
      const outcome: DlopenOutcome = {
        declaredBy: by, sonames: e.sonames, feature: e.feature ?? null, description: e.description ?? null, priority: e.priority,
        outcome: 'not-found', name: d.name ?? null, path: d.loaded?.path ?? d.found?.path ?? null, via: d.loaded ? 'loaded' : d.found?.via ?? null,
      };
      plan.outcomes.push(outcome);
      const complain = (line: string) => (e.priority === 'required' ? plan.warnings : plan.notes).push(line);
      if (!withinLevel(e.priority, level)) {
        outcome.outcome = 'below-level';
        below.push(e);
      } else if (d.loaded) {
        outcome.outcome = 'loaded';
      } else if (!d.found) {
        complain(`${what}, but it is not in the root${d.error ? ` (${d.error})` : ''}: not added${e.priority === 'required' ? '; the program may fail where it loads it' : ''}`);
      } else if (inImage.has(d.found.realPath!)) {
        outcome.outcome = 'present';
        const lib = dlopenObject(d);
        plan.deps.push({ library: lib, loads: [dlopenLoad(lib, d, load)], declaredIn: load, elfFiles: [] });
      } else if (added >= MAX_DLOPEN_ADDED) {
        outcome.outcome = 'over-limit';
        complain(`${what}, but more than ${MAX_DLOPEN_ADDED} libraries were added through dlopen notes already: not added`);
      } else {
        const r = d.found;
        let own: ProgramLoad;
        try {
          own = loadProgram(resolver, inspectEntry(resolver, r.path!));
        } catch (err) {
          outcome.outcome = 'incomplete';
          complain(`${what}; found at ${r.path}, but it cannot be loaded (${(err as Error).message}): not added`);
          continue;
        }
        if (own.missing.length) {
          outcome.outcome = 'incomplete';
          complain(`${what}; found at ${r.path}, but it needs what the root does not have (${[...new Set(own.missing.map((m) => m.name))].join(', ')}): not added`);
          continue;
        }
        outcome.outcome = 'added';
        const where = r.path === r.realPath ? r.path : `${r.path} → ${r.realPath}`;
        const lib = dlopenObject(d);
        plan.deps.push({ reason: `${d.name} (${where}): ${declares}`, library: lib, loads: [dlopenLoad(lib, d, load), own], declaredIn: load, own, elfFiles: [r.path!] });
        added++;
        inImage.add(r.realPath!);
        for (const o of own.objects) inImage.add(o.realPath);
        queue.push(own);
      }
    }
  }
  if (below.length) {
    const names = [...new Set(below.map((e) => e.sonames[0]))];
    const lowest = below.some((e) => e.priority === 'suggested') ? 'suggested' : 'recommended';
    const one = below.length === 1;
    plan.notes.push(`left out ${below.length} .note.dlopen ${one ? 'entry' : 'entries'} below "${level}" (${names.slice(0, 5).join(', ')}${names.length > 5 ? ', …' : ''}): --dlopen ${lowest} adds ${one ? 'it' : 'them'}`);
  }
  return plan;
}

/** The library as the dlopen loads it: named by the soname that answered, loaded by the declarer. */
function dlopenObject(d: DeclaredDlopen): LoadedObject {
  const r = d.found!;
  return {
    path: r.path!, realPath: r.realPath!, fileId: r.fileId, origin: dirName(r.path!), elf: r.elf!, names: [d.name!], via: r.via!,
    role: 'library', links: r.links, deps: [], loader: d.declaredBy, contextKey: undefined, chainKey: undefined,
  };
}

/** The dlopen as a load of one object: what the image's loader configuration is made from. */
function dlopenLoad(o: LoadedObject, d: DeclaredDlopen, from: ProgramLoad): ProgramLoad {
  return { file: { path: o.path, realPath: o.realPath, links: o.links, elf: o.elf }, profile: from.profile, order: [{ kind: 'library', name: d.name!, object: o }], objects: [o], missing: [], skipped: d.found!.skipped };
}
