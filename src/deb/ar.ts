// The members of an ar archive, the container of a .deb (deb(5)): "!<arch>\n", then for each
// member a 60-byte header (name 16, mtime 12, uid 6, gid 6, mode 8, size 10, "`\n") and its
// bytes, padded to an even offset. Names as dpkg-deb writes them ("debian-binary" padded with
// spaces), as GNU ar writes them ("name/", "/N" into a "//" table of long names) and as BSD ar
// writes them ("#1/N", the name in the first N bytes of the member). Only headers are read:
// members stay where they lie in the file, as regions.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { ElfpackError } from '../errors.js';
import { escapeName } from '../escape.js';
import type { Region } from '../oci/blob-source.js';

export const AR_MAGIC = '!<arch>\n';
const HEADER = 60;
/** Members of one archive, at most: a .deb has three, and dpkg-deb ignores extra "_" ones. */
export const MAX_AR_MEMBERS = 64;
/** A member name's bytes, at most (a .deb's are 20 at most; NAME_MAX for the rest). */
export const MAX_AR_NAME = 255;
/** GNU's "//" table of long names, at most. */
const MAX_NAME_TABLE = 64 << 10;

export interface ArMember extends Region {
  name: string;
}

function malformed(label: string, what: string): ElfpackError {
  return new ElfpackError('DEB_MALFORMED', `not a valid .deb: ${what}`, { path: label, step: 'deb' });
}

/** The members of the ar archive `file`, in order, with where their bytes are. */
export function readArMembers(file: string, label = file): ArMember[] {
  const fd = openSync(file, 'r');
  try {
    return readMembers(fd, file, fstatSync(fd).size, label);
  } finally {
    closeSync(fd);
  }
}

function readAt(fd: number, at: number, length: number): Buffer {
  const b = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, b, got, length - got, at + got);
    if (n === 0) break;
    got += n;
  }
  return b.subarray(0, got);
}

function readMembers(fd: number, file: string, size: number, label: string): ArMember[] {
  if (readAt(fd, 0, 8).toString('latin1') !== AR_MAGIC) throw malformed(label, 'it does not start with the ar magic "!<arch>"');
  const out: ArMember[] = [];
  let names: Buffer | undefined;
  for (let at = 8; at < size;) {
    if (out.length >= MAX_AR_MEMBERS) throw new ElfpackError('DEB_LIMIT', `more than ${MAX_AR_MEMBERS} ar members: refused`, { path: label, step: 'deb' });
    const h = readAt(fd, at, HEADER);
    if (h.length < HEADER) throw malformed(label, `the ar header at offset ${at} is truncated`);
    if (h[58] !== 0x60 || h[59] !== 0x0a) throw malformed(label, `the ar header at offset ${at} does not end with "\`\\n"`);
    const sizeField = h.toString('latin1', 48, 58).trimEnd();
    if (!/^\d{1,10}$/.test(sizeField)) throw malformed(label, `the ar header at offset ${at} has a size that is not a number`);
    let dataAt = at + HEADER;
    let dataSize = Number(sizeField);
    if (dataAt + dataSize > size) throw malformed(label, `ar member at offset ${at} is truncated (${dataSize} bytes, the file ends ${size - dataAt} bytes after its header)`);
    const raw = h.toString('latin1', 0, 16).trimEnd();
    let name: string;
    if (raw.startsWith('#1/')) {
      // BSD: the name is the member's first N bytes, counted in its size.
      const n = /^#1\/(\d{1,3})$/.test(raw) ? Number(raw.slice(3)) : NaN;
      if (!(n <= MAX_AR_NAME) || n > dataSize) throw malformed(label, `the BSD name length of the ar member at offset ${at} is out of bounds`);
      name = readAt(fd, dataAt, n).toString('utf8').replace(/\0+$/, '');
      dataAt += n;
      dataSize -= n;
    } else if (raw === '//') {
      if (dataSize > MAX_NAME_TABLE) throw new ElfpackError('DEB_LIMIT', `the ar table of long names has more than ${MAX_NAME_TABLE} bytes: refused`, { path: label, step: 'deb' });
      names = readAt(fd, dataAt, dataSize);
      name = raw;
    } else if (/^\/\d+$/.test(raw)) {
      name = longName(names, Number(raw.slice(1)), label, at);
    } else name = raw === '/' || raw === '/SYM64/' ? raw : raw.replace(/\/$/, '');
    if (!name) throw malformed(label, `the ar member at offset ${at} has no name`);
    if (raw !== '//' && raw !== '/' && raw !== '/SYM64/') out.push({ name, file, offset: dataAt, size: dataSize });
    at = at + HEADER + Number(sizeField);
    at += at % 2; // members start at even offsets
  }
  return out;
}

/** A GNU long name: "/N" is the name at offset N of the "//" member, up to "/\n". */
function longName(table: Buffer | undefined, offset: number, label: string, at: number): string {
  if (!table || offset >= table.length) throw malformed(label, `the ar member at offset ${at} names a long name the archive does not hold`);
  let end = table.indexOf('/\n', offset, 'latin1');
  if (end < 0) end = table.length;
  if (end - offset > MAX_AR_NAME) throw malformed(label, `the long name of the ar member at offset ${at} is longer than ${MAX_AR_NAME} bytes`);
  return table.toString('utf8', offset, end);
}

/** The member named `name`, or undefined. */
export function findMember(members: ArMember[], name: string): ArMember | undefined {
  return members.find((m) => m.name === name);
}

/** A member name for messages. */
export function memberLabel(m: ArMember): string {
  return escapeName(m.name);
}
