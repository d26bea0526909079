// A "#!" script's interpreters, followed as execve follows them (fs/binfmt_script.c, then
// exec_binprm in fs/exec.c): an interpreter that is a script is run through its own "#!" line,
// up to MAX_SCRIPTS_IN_A_ROW scripts in a row. A chain that comes back to a script already in it can
// never end: the kernel runs it until the depth is spent and fails with ELOOP.
import { ElfpackError } from '../errors.js';
import { MAX_SCRIPTS_IN_A_ROW, parseShebang, SCRIPT_HEAD_BYTES, type ScriptInfo } from '../elf/script.js';
import { tryResolveInRoot } from '../root/resolve-path.js';
import type { Resolver } from '../resolve/resolver.js';
import type { EntryFile } from './load-program.js';

export interface InterpreterChain {
  /** Whether every interpreter of the chain exists (the last one is not a script). */
  found: boolean;
  /** SCRIPT_LOOP: the chain comes back to a script in it, or is deeper than the kernel follows. */
  error?: ElfpackError;
}

/** Follows `entry`'s "#!" interpreters inside the resolver's root; `entry` must be a script. */
export function followInterpreters(resolver: Resolver, entry: EntryFile): InterpreterChain {
  const seen = new Set([entry.realPath]);
  let script: ScriptInfo = entry.script!;
  for (let scripts = 1; ; scripts++) {
    // With CRLF the kernel looks for the name with its "\r" (as ldd's and doctor's CRLF notes say).
    const name = script.interpreter + (script.crlf ? '\r' : '');
    const r = tryResolveInRoot(resolver.root, name, { cwd: resolver.cwd });
    if (!r?.type) return { found: false };
    if (seen.has(r.path)) {
      const back = r.path === entry.realPath ? 'the script itself' : `${r.path}, a script already in its chain`;
      return { found: false, error: loop(entry, `its "#!" interpreter ${script.interpreter} is ${back}: exec fails with ELOOP, as no chain of "#!" interpreters may come back`) };
    }
    seen.add(r.path);
    const next = r.type === 'file' ? readShebang(resolver, r.path) : undefined;
    if (!next) return { found: true };
    if (scripts >= MAX_SCRIPTS_IN_A_ROW) {
      return { found: false, error: loop(entry, `more than ${MAX_SCRIPTS_IN_A_ROW} "#!" scripts in a row (the last, ${r.path}, is a script too): exec fails with ELOOP`) };
    }
    script = next;
  }
}

function loop(entry: EntryFile, message: string): ElfpackError {
  return new ElfpackError('SCRIPT_LOOP', message, { path: entry.path, step: 'script' });
}

/** The "#!" line of a file, or undefined when it is not a script (or cannot be read). */
function readShebang(resolver: Resolver, realPath: string): ScriptInfo | undefined {
  try {
    const src = resolver.root.open(realPath);
    try {
      return parseShebang(src.read(0, Math.min(src.size, SCRIPT_HEAD_BYTES), 'file head'));
    } finally {
      src.close();
    }
  } catch {
    return undefined;
  }
}
