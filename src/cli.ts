// The command line: flags → options → a library call → rendered output and an exit code.
// The only place that reads process.env, process.argv and the terminal.
import { Command, CommanderError } from 'commander';
import pc from 'picocolors';
import { statSync } from 'node:fs';
import { resolve as resolveHostPath } from 'node:path';
import { ElfpackError } from './errors.js';
import { HostRoot } from './root/host-root.js';
import { hostHwcaps } from './resolve/hwcaps.js';
import { ldd, lddToJson, renderLdd, renderProblems, renderTree, type Painter } from './commands/ldd.js';

export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env: NodeJS.ProcessEnv;
  isTTY: boolean;
  cwd: string;
}

function painter(io: CliIo): Painter {
  const on = io.env.FORCE_COLOR ? io.env.FORCE_COLOR !== '0' : io.isTTY && !io.env.NO_COLOR && io.env.TERM !== 'dumb';
  const c = pc.createColors(on);
  return { red: c.red, dim: c.dim, bold: c.bold };
}

function splitHwcaps(v: string): string[] {
  return v.split(',').map((s) => s.trim()).filter(Boolean);
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  let code = 0;
  let debug = argv.includes('--debug');
  const program = new Command('elfpack')
    .description('Turn a Linux program into the smallest container image that still runs it')
    .option('--debug', 'print stack traces on errors')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(run elfpack --help for usage)');

  program
    .command('ldd')
    .description('list the shared libraries FILE needs, found as the loader would, without running it')
    .argument('<file...>', 'ELF files (paths inside --root when it is given)')
    .option('--root <dir>', 'resolve inside this root filesystem (FILE paths are inside it too)')
    .option('--library-path <path>', 'LD_LIBRARY_PATH for the search (default: $LD_LIBRARY_PATH, not with --root)')
    .option('--hwcaps <list>', 'glibc-hwcaps subdirectories to search, best first (default: the host CPU\'s without --root, none with it)')
    .option('--no-ld-so-cache', 'ignore the root\'s /etc/ld.so.cache')
    .option('--tree', 'show a tree: who needs whom, and how each library was found')
    .option('--json', 'print a JSON document (schema elfpack.ldd/v1)')
    .action((files: string[], o: { root?: string; libraryPath?: string; hwcaps?: string; ldSoCache: boolean; tree?: boolean; json?: boolean }) => {
      const rootDir = o.root ? resolveHostPath(io.cwd, o.root) : '/';
      if (o.root) {
        const st = statSync(rootDir, { throwIfNoEntry: false });
        if (!st?.isDirectory()) throw new ElfpackError('USAGE', st ? 'is not a directory' : 'no such directory', { path: o.root });
      }
      const result = ldd(new HostRoot(rootDir), files, {
        libraryPath: o.libraryPath ?? (o.root ? undefined : io.env.LD_LIBRARY_PATH),
        hwcaps: o.hwcaps !== undefined ? splitHwcaps(o.hwcaps) : o.root ? [] : hostHwcaps(),
        cwd: o.root ? '/' : io.cwd,
        useLdSoCache: o.ldSoCache,
        versions: !!o.json,
      });
      const paint = painter(io);
      if (o.json) io.stdout(JSON.stringify(lddToJson(result), null, 2) + '\n');
      else {
        const lines = o.tree ? renderTree(result, paint) : renderLdd(result, paint);
        if (lines.length) io.stdout(lines.join('\n') + '\n');
      }
      if (!o.json) for (const p of renderProblems(result)) io.stderr(`elfpack: ${p}\n`);
      code = result.ok ? 0 : 1;
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    debug ||= !!io.env.ELFPACK_DEBUG;
    if (err instanceof ElfpackError) {
      io.stderr(`elfpack: ${err.describe()}\n`);
      if (debug && err.stack) io.stderr(err.stack + '\n');
      return err.code === 'USAGE' ? 2 : 1;
    }
    io.stderr(`elfpack: ${(err as Error)?.message ?? String(err)}\n`);
    if (debug && (err as Error)?.stack) io.stderr((err as Error).stack + '\n');
    return 1;
  }
}
