// "#!" scripts, read the way the kernel's binfmt_script does: the interpreter path, then at most
// one argument (the rest of the line, trimmed), within the first 256 bytes (BINPRM_BUF_SIZE); a
// NUL ends the line there (the kernel reads both as C strings).
import { decodeName } from './byte-source.js';

export interface ScriptInfo {
  interpreter: string;
  /** Linux passes everything after the interpreter as a single argument. */
  argument?: string;
  /** The line ends in CRLF: the kernel then looks for an interpreter whose name ends in "\r". */
  crlf: boolean;
}

export const SCRIPT_HEAD_BYTES = 256;
/**
 * "#!" scripts the kernel runs through in a row: exec_binprm (fs/exec.c) gives up with ELOOP at a
 * sixth rewrite (its loop stops at depth > 5; checked on Linux 6.x: five scripts run, six fail).
 */
export const MAX_SCRIPTS_IN_A_ROW = 5;

export function isScript(head: Buffer): boolean {
  return head.length >= 2 && head[0] === 0x23 && head[1] === 0x21;
}

/** Parses the "#!" line from the first bytes of a file; undefined when the line names no interpreter. */
export function parseShebang(head: Buffer): ScriptInfo | undefined {
  if (!isScript(head)) return undefined;
  const head256 = head.subarray(0, SCRIPT_HEAD_BYTES);
  const newline = head256.indexOf(0x0a);
  const lineEnd = newline < 0 ? head256.length : newline;
  const nul = head256.indexOf(0);
  let line = decodeName(head256, 2, nul >= 2 && nul < lineEnd ? nul : lineEnd);
  const crlf = line.endsWith('\r');
  if (crlf) line = line.slice(0, -1);
  // The kernel splits on spaces and tabs only; "\r" would stay part of the last word.
  const trimmed = line.replace(/^[ \t]+/, '').replace(/[ \t]+$/, '');
  if (!trimmed) return undefined;
  const m = /^([^ \t]+)(?:[ \t]+(.*))?$/s.exec(trimmed); // s: "." takes "\r" and U+2028 too
  if (!m) return undefined;
  return { interpreter: m[1], argument: m[2] || undefined, crlf };
}
