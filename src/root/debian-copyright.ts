// A Debian package's licenses from /usr/share/doc/NAME/copyright when it is machine-readable
// (DEP-5, copyright-format 1.0): the short names of the License fields of the header and the Files
// paragraphs. Best effort: a free-form or oversized copyright file gives nothing.
import type { DbReader } from './db-files.js';
import { fieldOf, parseDeb822 } from './deb822.js';

/** Copyright files past this are not read (glibc's is 30 kB; the largest in Debian run to a few MB). */
export const MAX_COPYRIGHT_BYTES = 512 * 1024;
/** Paragraphs read from one copyright file, at most; past that the file gives nothing. */
const MAX_COPYRIGHT_PARAGRAPHS = 10_000;

/**
 * The distinct license short names ("GPL-2+", "LGPL-2.1+", "public-domain"…) in the order they
 * first appear, or undefined. These are Debian's names, which are often, not always, SPDX ids.
 */
export function readDebianLicenses(reader: DbReader, pkg: string): string[] | undefined {
  const text = reader.readTextUpTo(`/usr/share/doc/${pkg}/copyright`, MAX_COPYRIGHT_BYTES);
  if (text === undefined) return undefined;
  return dep5Licenses(text);
}

export function dep5Licenses(text: string): string[] | undefined {
  let parsed;
  try {
    parsed = parseDeb822(text, MAX_COPYRIGHT_PARAGRAPHS, () => { throw new RangeError('too many paragraphs'); });
  } catch {
    return undefined;
  }
  const [header, ...rest] = parsed.paragraphs;
  // The Format field of the first paragraph names the copyright-format spec (or its draft "dep5").
  const format = header && fieldOf(header, 'Format')?.value;
  if (!format || !/copyright-format|dep5/i.test(format)) return undefined;
  const names: string[] = [];
  for (const p of [header, ...rest.filter((r) => fieldOf(r, 'Files'))]) {
    const name = fieldOf(p, 'License')?.value.replace(/\s+/g, ' ');
    if (name && !names.includes(name)) names.push(name);
  }
  return names.length ? names : undefined;
}
