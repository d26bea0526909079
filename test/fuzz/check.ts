// What a run of `elfpack ldd --json` on a hostile input may do: exit 0 or 1 (2 is bad usage, which
// a file cannot cause), print the ldd document or one `elfpack: PATH: what` line per problem, and
// never show a bug (an "internal error", a JavaScript message, a stack, a raw control character).
export interface Run { code: number; stdout: string; stderr: string }

const JS_MESSAGES = /internal error|TypeError|RangeError|ReferenceError|Maximum call stack|is not a function|Cannot read propert|is not iterable|Invalid array length|\[object Object\]|    at /;
const STATUSES = new Set(['dynamic', 'static', 'statically-linked', 'script', 'error']);

// ldd's own line for a file that is not dynamic (glibc's ldd prints it so, on stderr).
const NOT_DYNAMIC = '\tnot a dynamic executable';
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;

/**
 * Why this run is a failure, or undefined when it is an acceptable answer. `text` runs (ldd's
 * default format, --tree, doctor) are held to one line per problem and no raw control character
 * in anything printed; `json` runs also to a well-formed elfpack.ldd/v1 document.
 */
export function judge(r: Run, format: 'json' | 'text' = 'json'): string | undefined {
  if (r.code !== 0 && r.code !== 1) return `exit status ${r.code}`;
  const lines = r.stderr.split('\n').filter(Boolean);
  const bad = lines.find((l) => JS_MESSAGES.test(l) || !(l.startsWith('elfpack: ') || (format === 'text' && l === NOT_DYNAMIC)));
  if (bad) return `stderr: ${bad.slice(0, 300)}`;
  if (RAW_CONTROL.test(r.stderr)) return 'stderr holds a raw control character';
  if (!r.stdout) {
    if (r.code === 0) return 'exit 0 with no output';
    if (lines.length !== 1) return `a refusal of ${lines.length} lines`;
    return undefined;
  }
  if (format === 'text') return RAW_CONTROL.test(r.stdout) ? 'stdout holds a raw control character' : undefined;
  let doc: { schema?: string; ok?: boolean; files?: { status?: string }[] };
  try {
    doc = JSON.parse(r.stdout);
  } catch {
    return 'stdout is not JSON';
  }
  if (doc.schema !== 'elfpack.ldd/v1' || !Array.isArray(doc.files)) return 'stdout is not an elfpack.ldd/v1 document';
  const odd = doc.files.find((f) => !STATUSES.has(String(f.status)));
  if (odd) return `a file record with status ${String(odd.status)}`;
  if (doc.ok !== (r.code === 0)) return `ok is ${doc.ok} but the exit status is ${r.code}`;
  return undefined;
}
