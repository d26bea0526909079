// Names and messages made safe for one line of text, as `ls -b` (GNU coreutils, UTF-8 locale)
// prints file names: \a \b \t \n \v \f \r by name, other C0 controls and DEL as 3-digit octal,
// C1 controls and U+2028/U+2029 as the octal of their UTF-8 bytes, and a byte that was not UTF-8
// (decodeName keeps it as U+DC80..U+DCFF) as the octal of that byte. Unlike ls -b, spaces stay.

const NAMED: Record<number, string> = { 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r' };

// With the u flag a lone surrogate is a code point of its own, and a valid pair never matches.
const NAME_UNSAFE = /[\x00-\x1f\x7f-\x9f\\\u2028\u2029\udc80-\udcff]/u;
const TEXT_UNSAFE = /[\x00-\x1f\x7f-\x9f\u2028\u2029\udc80-\udcff]/u;

function octal(byte: number): string {
  return '\\' + byte.toString(8).padStart(3, '0');
}

function escapeWith(s: string, backslash: boolean): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c === 0x5c) out += backslash ? '\\\\' : ch;
    else if (c < 0x20 || c === 0x7f) out += NAMED[c] ?? octal(c);
    else if (c <= 0x9f && c >= 0x80) out += octal(0xc2) + octal(c);
    else if (c === 0x2028 || c === 0x2029) out += octal(0xe2) + octal(0x80) + octal(c === 0x2028 ? 0xa8 : 0xa9);
    else if (c >= 0xdc80 && c <= 0xdcff) out += octal(c - 0xdc00);
    else out += ch;
  }
  return out;
}

/**
 * A name from a file or the command line (DT_NEEDED, PT_INTERP, SONAME, RPATH, a "#!" interpreter,
 * a path) as it is printed: a backslash doubles, so every printed name reads back to one string.
 */
export function escapeName(s: string): string {
  return NAME_UNSAFE.test(s) ? escapeWith(s, true) : s;
}

/**
 * A message that may hold names: its control characters escaped as escapeName does, so it stays
 * one line; backslashes are left alone (the message's own text may hold them on purpose).
 */
export function escapeControls(s: string): string {
  return TEXT_UNSAFE.test(s) ? escapeWith(s, false) : s;
}
