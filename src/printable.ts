// Text from a file or an image, made safe for one line of a terminal: control characters are
// escaped as `ls -b` and C strings write them (\n, \t, \x1b…), and a backslash is doubled so the
// escape cannot be forged. JSON output keeps the exact text; this is for lines meant for people.
const NAMED: Record<string, string> = { '\n': '\\n', '\t': '\\t', '\r': '\\r', '\\': '\\\\' };

// C0 controls, DEL, C1 controls, the Unicode line and paragraph separators, and the backslash.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\\]/g;

export function printable(s: string): string {
  UNSAFE.lastIndex = 0;
  if (!UNSAFE.test(s)) return s;
  return s.replace(UNSAFE, (c) => NAMED[c] ?? (c.charCodeAt(0) < 0x100 ? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}` : `\\u${c.charCodeAt(0).toString(16)}`));
}
