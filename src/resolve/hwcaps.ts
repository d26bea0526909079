// The glibc-hwcaps subdirectories a CPU supports, best first, as ld.so --help lists them.
// Only the host's CPU can be asked; for another root the caller says which (default: none).
import { readFileSync } from 'node:fs';

// x86-64 psABI micro-architecture levels (glibc sysdeps/x86/get-isa-level.h), as /proc/cpuinfo flags.
const X86_LEVELS: [string, string[]][] = [
  ['x86-64-v2', ['cx16', 'lahf_lm', 'popcnt', 'sse4_1', 'sse4_2', 'ssse3']],
  ['x86-64-v3', ['avx', 'avx2', 'bmi1', 'bmi2', 'f16c', 'fma', 'abm', 'movbe', 'xsave']],
  ['x86-64-v4', ['avx512f', 'avx512bw', 'avx512cd', 'avx512dq', 'avx512vl']],
];

export function x86Hwcaps(flags: Set<string>): string[] {
  const out: string[] = [];
  for (const [name, need] of X86_LEVELS) {
    if (!need.every((f) => flags.has(f))) break; // each level includes the one below
    out.unshift(name);
  }
  return out;
}

/** The host's list, read from /proc/cpuinfo; [] when not x86-64 or unreadable. */
export function hostHwcaps(arch = process.arch): string[] {
  if (arch !== 'x64') return [];
  try {
    const m = /^flags\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    return m ? x86Hwcaps(new Set(m[1].split(/\s+/))) : [];
  } catch {
    return [];
  }
}
