// ELF notes: which toolchain built a program (the Go linker's "Go" note, type 4), and what a library
// declares it may dlopen (the FDO dlopen metadata, systemd.io/ELF_DLOPEN_METADATA: owner "FDO", type
// 0x407c0c0a, a NUL-terminated UTF-8 JSON array of {soname: [...], feature, description, priority}).
import type { ByteSource } from './byte-source.js';
import { PT_NOTE } from './constants.js';
import { readLayout, type ElfLayout, type Fields } from './layout.js';

const NT_GO_BUILDID = 4;
const MAX_NOTE_BYTES = 64 * 1024; // build-id and ABI notes are tens of bytes; more is not a note we want
const MAX_PHNUM = 1024;

/** The FDO dlopen note: owner "FDO", this type (spec: "look for the note using the note type"). */
export const NT_FDO_DLOPEN = 0x407c0c0a;
export const FDO_OWNER = 'FDO';

/**
 * Bounds of what is read from a file's dlopen notes. Real ones are small: systemd's
 * libsystemd-shared declares ~30 entries in ~6 KiB of notes; SDL3 a few KiB.
 */
export const DLOPEN_LIMITS = {
  /** Note bytes read from one PT_NOTE segment or SHT_NOTE section. */
  regionBytes: 1 << 20,
  /** One note's JSON descriptor. */
  descBytes: 64 * 1024,
  /** Entries kept per file. */
  entries: 1024,
  /** Sonames kept per entry (alternatives: real ones list two or three). */
  sonames: 32,
  /** A soname's length: NAME_MAX for a file name, PATH_MAX for a path. */
  sonameBytes: 255,
  pathBytes: 4096,
  /** feature and description: longer ones are cut (they are only shown). */
  textChars: 1024,
  /** Section headers looked at for notes outside PT_NOTE. */
  sections: 65536,
  /** The section name table read to find a .note.dlopen that is not SHT_NOTE. */
  shstrtabBytes: 1 << 20,
};

export type DlopenPriority = 'required' | 'recommended' | 'suggested';
export const DLOPEN_PRIORITIES: readonly DlopenPriority[] = ['required', 'recommended', 'suggested'];

/** One dependency a library declares it may dlopen. */
export interface DlopenEntry {
  /** Alternatives, most preferred first: dlopen takes the first one the system has. */
  sonames: string[];
  feature?: string;
  description?: string;
  /** "recommended" when the note does not say (the spec's default). */
  priority: DlopenPriority;
}

export interface DlopenNotes {
  entries: DlopenEntry[];
  /** Each note's JSON text, as it is in the file (for `readelf -p .note.dlopen`-like output and tests). */
  raw: string[];
  /** What was wrong or left out (malformed JSON, a bound hit): warnings, never errors. */
  problems: string[];
}

export interface ElfNote {
  name: string;
  type: number;
}

/**
 * Calls `visit` for each note in `b` (Elf_Nhdr: namesz, descsz, type; name and desc each padded to
 * `align`, 4 unless the segment or section is 8-aligned, as readelf does). Stops at the first note
 * that runs past the end.
 */
function forEachNote(b: Buffer, f: Fields, align: number, visit: (name: string, type: number, descStart: number, descEnd: number, at: number) => void): void {
  const pad = align === 8 ? 8 : 4;
  const up = (n: number) => Math.ceil(n / pad) * pad;
  for (let at = 0; at + 12 <= b.length;) {
    const namesz = f.u32(b, at), descsz = f.u32(b, at + 4), type = f.u32(b, at + 8);
    const nameEnd = at + 12 + namesz;
    const descStart = at + 12 + up(namesz);
    if (nameEnd > b.length || descStart + descsz > b.length) break;
    visit(b.toString('latin1', at + 12, nameEnd).replace(/\0+$/, ''), type, descStart, descStart + descsz, at);
    at = descStart + up(descsz);
  }
}

/** Names and types of the notes in PT_NOTE segments; [] for anything unreadable (this is a hint, never an error). */
export function readNotes(src: ByteSource): ElfNote[] {
  try {
    const { f, segments } = readLayout(src, { maxPhnum: MAX_PHNUM });
    const notes: ElfNote[] = [];
    for (const seg of segments) {
      if (seg.type !== PT_NOTE) continue;
      const size = Math.min(seg.filesz, MAX_NOTE_BYTES);
      if (!(size > 0)) continue;
      forEachNote(src.read(seg.offset, size, 'note segment'), f, seg.align, (name, type) => notes.push({ name, type }));
    }
    return notes;
  } catch {
    return [];
  }
}

/** Whether the Go toolchain linked this program. */
export function isGoProgram(src: ByteSource): boolean {
  return readNotes(src).some((n) => n.name === 'Go' && n.type === NT_GO_BUILDID);
}

const SHT_NOTE = 7;
const SHT_NOBITS = 8;
const SHN_XINDEX = 0xffff;

interface NoteRegion {
  offset: number;
  size: number;
  align: number;
  what: string;
}

/**
 * The dlopen notes of an ELF file. They are looked for in PT_NOTE segments (what survives
 * section-header stripping; GNU ld puts an allocated `.note.*` section there) and in the section
 * headers (a note section outside every PT_NOTE, e.g. one objcopy --add-section added, or one
 * assembled as PROGBITS under the name `.note.dlopen`); a note seen through both is read once.
 * Never throws: what cannot be read is a problem in the result.
 */
export function readDlopenNotes(src: ByteSource): DlopenNotes {
  const out: DlopenNotes = { entries: [], raw: [], problems: [] };
  let layout: ElfLayout;
  try {
    layout = readLayout(src, { maxPhnum: MAX_PHNUM });
  } catch (err) {
    out.problems.push(`not read: ${(err as Error).message}`);
    return out;
  }
  const regions: NoteRegion[] = [];
  for (const seg of layout.segments) if (seg.type === PT_NOTE) regions.push({ offset: seg.offset, size: seg.filesz, align: seg.align, what: 'PT_NOTE segment' });
  try {
    regions.push(...noteSections(src, layout, regions));
  } catch (err) {
    out.problems.push(`section headers not read: ${(err as Error).message}`);
  }
  const seen = new Set<number>();
  for (const r of regions) {
    if (!(r.size > 0) || !Number.isSafeInteger(r.offset)) continue;
    let size = r.size;
    if (size > DLOPEN_LIMITS.regionBytes) {
      out.problems.push(`a ${r.what} of ${size} bytes: only its first ${DLOPEN_LIMITS.regionBytes} were read`);
      size = DLOPEN_LIMITS.regionBytes;
    }
    let b: Buffer;
    try {
      b = src.read(r.offset, size, r.what);
    } catch (err) {
      out.problems.push(`${r.what} not read: ${(err as Error).message}`);
      continue;
    }
    forEachNote(b, layout.f, r.align, (name, type, descStart, descEnd, at) => {
      if (name !== FDO_OWNER || type !== NT_FDO_DLOPEN || seen.has(r.offset + at)) return;
      seen.add(r.offset + at);
      if (descEnd - descStart > DLOPEN_LIMITS.descBytes) {
        out.problems.push(`a dlopen note of ${descEnd - descStart} bytes (more than ${DLOPEN_LIMITS.descBytes}) was left out`);
        return;
      }
      parseDlopenJson(b.subarray(descStart, descEnd), out);
    });
  }
  return out;
}

/** SHT_NOTE sections, and any section named .note.dlopen, that no PT_NOTE segment already covers. */
function noteSections(src: ByteSource, { f, shoff, shentsize, shnum, header }: ElfLayout, segs: NoteRegion[]): NoteRegion[] {
  if (shoff === 0) return [];
  const is64 = f.is64;
  const want = is64 ? 64 : 40;
  if (shentsize !== want) throw new Error(`section header entry size is ${shentsize}, expected ${want}`);
  const first = () => src.read(shoff, want, 'section header 0');
  // e_shnum 0 with section headers present: the count is section 0's sh_size.
  if (shnum === 0) shnum = f.addr(first(), is64 ? 32 : 20);
  if (!Number.isSafeInteger(shnum) || shnum > DLOPEN_LIMITS.sections) throw new Error(`${shnum} section headers (more than ${DLOPEN_LIMITS.sections})`);
  const table = src.read(shoff, shnum * want, `section headers (${shnum} entries)`);
  const sec = (i: number) => {
    const o = i * want;
    return {
      name: f.u32(table, o),
      type: f.u32(table, o + 4),
      offset: f.addr(table, is64 ? o + 24 : o + 16),
      size: f.addr(table, is64 ? o + 32 : o + 20),
      align: f.addr(table, is64 ? o + 48 : o + 32),
    };
  };
  let names: Buffer | undefined;
  const nameOf = (off: number): string => {
    if (names === undefined) {
      let idx = f.u16(header, is64 ? 62 : 50);
      if (idx === SHN_XINDEX) idx = f.u32(first(), is64 ? 40 : 24); // the real index is section 0's sh_link
      const s = idx > 0 && idx < shnum ? sec(idx) : undefined;
      names = s && s.type !== SHT_NOBITS && s.size <= DLOPEN_LIMITS.shstrtabBytes ? src.read(s.offset, s.size, 'section name table') : Buffer.alloc(0);
    }
    if (off >= names.length) return '';
    const end = names.indexOf(0, off);
    return names.toString('latin1', off, end < 0 ? names.length : end);
  };
  const covered = (offset: number, size: number) => segs.some((g) => offset >= g.offset && offset + size <= g.offset + g.size);
  const out: NoteRegion[] = [];
  for (let i = 1; i < shnum; i++) {
    const s = sec(i);
    if (s.type === SHT_NOBITS || !(s.size > 0) || covered(s.offset, s.size)) continue;
    if (s.type === SHT_NOTE || nameOf(s.name) === '.note.dlopen') out.push({ offset: s.offset, size: s.size, align: s.align, what: `section ${i}` });
  }
  return out;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** One note's descriptor → entries: the array form, or the older single object with a string soname. */
function parseDlopenJson(desc: Buffer, out: DlopenNotes): void {
  const nul = desc.indexOf(0);
  let text: string;
  try {
    text = decoder.decode(desc.subarray(0, nul < 0 ? desc.length : nul));
  } catch {
    out.problems.push('a dlopen note is not UTF-8: left out');
    return;
  }
  out.raw.push(text);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    out.problems.push(`a dlopen note is not valid JSON (${(err as Error).message}): left out`);
    return;
  }
  const items = Array.isArray(json) ? json : [json];
  if (items.some((x) => typeof x !== 'object' || x === null || Array.isArray(x))) {
    out.problems.push(`a dlopen note ${Array.isArray(json) ? 'has items that are not objects: those were left out' : 'is neither an array of objects nor an object: left out'}`);
  }
  for (const item of items) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) continue;
    if (out.entries.length >= DLOPEN_LIMITS.entries) {
      out.problems.push(`more than ${DLOPEN_LIMITS.entries} dlopen entries: the rest were left out`);
      return;
    }
    const entry = toEntry(item as Record<string, unknown>, out.problems);
    if (entry) out.entries.push(entry);
  }
}

/** One JSON object → an entry; unknown keys are ignored, as the spec asks. */
function toEntry(o: Record<string, unknown>, problems: string[]): DlopenEntry | undefined {
  const raw = typeof o.soname === 'string' ? [o.soname] : Array.isArray(o.soname) ? o.soname : undefined;
  if (!raw) {
    problems.push('a dlopen entry has no "soname" (a string or an array of strings): left out');
    return undefined;
  }
  const sonames: string[] = [];
  for (const s of raw.slice(0, DLOPEN_LIMITS.sonames)) {
    if (typeof s !== 'string' || s === '' || s.includes('\0')) {
      problems.push(`a dlopen entry names ${JSON.stringify(s)?.slice(0, 80)}, not a library name: that name was left out`);
      continue;
    }
    const bytes = Buffer.byteLength(s);
    if (bytes > (s.includes('/') ? DLOPEN_LIMITS.pathBytes : DLOPEN_LIMITS.sonameBytes)) {
      problems.push(`a dlopen entry names a library of ${bytes} bytes, longer than a file name can be: that name was left out`);
      continue;
    }
    sonames.push(s);
  }
  if (raw.length > DLOPEN_LIMITS.sonames) problems.push(`a dlopen entry lists ${raw.length} sonames: only the first ${DLOPEN_LIMITS.sonames} were kept`);
  if (!sonames.length) {
    if (raw.length === 0) problems.push('a dlopen entry has an empty "soname" list: left out');
    return undefined;
  }
  let priority: DlopenPriority = 'recommended';
  if (o.priority !== undefined) {
    if (DLOPEN_PRIORITIES.includes(o.priority as DlopenPriority)) priority = o.priority as DlopenPriority;
    else problems.push(`${sonames[0]}: unknown dlopen priority ${JSON.stringify(o.priority)?.slice(0, 80)}, taken as "recommended"`);
  }
  const entry: DlopenEntry = { sonames, priority };
  const text = (v: unknown) => (typeof v === 'string' ? v.slice(0, DLOPEN_LIMITS.textChars) : undefined);
  const feature = text(o.feature), description = text(o.description);
  if (feature !== undefined) entry.feature = feature;
  if (description !== undefined) entry.description = description;
  return entry;
}
