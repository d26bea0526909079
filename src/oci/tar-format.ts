// POSIX tar headers (pax interchange format, POSIX.1-2001): ustar when a name fits, else a pax
// "x" record carrying the long path or link target, as GNU tar and Go's archive/tar do.
import { ElfpackError } from '../errors.js';

export const BLOCK = 512;

export interface TarEntry {
  name: string;
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  size?: number;
  linkname?: string;
  uid?: number;
  gid?: number;
  /** Seconds since the epoch. */
  mtime: number;
}

const TYPEFLAG = { file: '0', symlink: '2', dir: '5' } as const;

/** The header block(s) for an entry: one ustar block, or a pax record then the ustar block. */
export function encodeHeader(e: TarEntry): Buffer {
  const split = splitName(e.name);
  const linkFits = Buffer.byteLength(e.linkname ?? '') <= 100;
  if (split && linkFits) return ustar(e, split.prefix, split.name, e.linkname ?? '');
  const records: string[] = [];
  if (!split) records.push(paxRecord('path', e.name));
  if (!linkFits) records.push(paxRecord('linkpath', e.linkname!));
  const body = Buffer.from(records.join(''), 'utf8');
  const short = e.name.replace(/\/$/, '').split('/').pop()!.slice(0, 80);
  const pax = ustar({ name: '', type: 'file', mode: 0o644, size: body.length, mtime: e.mtime }, '', `PaxHeaders/${short}`, '', 'x');
  const fallback = split ?? { prefix: '', name: e.name.slice(-100) };
  return Buffer.concat([pax, body, padding(body.length), ustar(e, fallback.prefix, fallback.name, linkFits ? e.linkname ?? '' : e.linkname!.slice(0, 100))]);
}

export function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return Buffer.alloc(rest ? BLOCK - rest : 0);
}

/** A pax record: "LEN key=value\n", where LEN counts the whole record, itself included. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const n = Buffer.byteLength(body);
  let len = n + String(n).length;
  if (String(len).length !== String(n).length) len = n + String(len).length;
  return `${len}${body}`;
}

/** ustar keeps up to 255 bytes: a prefix (≤155) and a name (≤100) split at a "/". */
function splitName(name: string): { prefix: string; name: string } | undefined {
  if (Buffer.byteLength(name) <= 100) return { prefix: '', name };
  const trail = name.endsWith('/') ? 1 : 0;
  for (let i = name.indexOf('/'); i > 0 && i < name.length - trail; i = name.indexOf('/', i + 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100 && rest.length > 0) return { prefix, name: rest };
  }
  return undefined;
}

function ustar(e: TarEntry, prefix: string, name: string, linkname: string, typeflag: string = TYPEFLAG[e.type]): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'utf8');
  octal(h, e.mode & 0o7777, 100, 8);
  octal(h, e.uid ?? 0, 108, 8);
  octal(h, e.gid ?? 0, 116, 8);
  const size = e.size ?? 0;
  if (size <= 0o77777777777) octal(h, size, 124, 12);
  else {
    // Past 8 GiB: base-256, as GNU tar writes it.
    h[124] = 0x80;
    h.writeBigUInt64BE(BigInt(size), 128);
  }
  if (!Number.isSafeInteger(e.mtime) || e.mtime < 0 || e.mtime > 0o77777777777) throw new ElfpackError('USAGE', `mtime out of range: ${e.mtime}`);
  octal(h, e.mtime, 136, 12);
  h.write(typeflag, 156, 'latin1');
  h.write(linkname, 157, 100, 'utf8');
  h.write('ustar\u000000', 257, 'latin1');
  h.write(prefix, 345, 155, 'utf8');
  h.fill(' ', 148, 156);
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 'latin1');
  return h;
}

function octal(h: Buffer, v: number, at: number, len: number): void {
  h.write(`${v.toString(8).padStart(len - 1, '0')}\u0000`, at, len, 'latin1');
}
