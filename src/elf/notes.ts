// ELF notes (PT_NOTE segments), read only to tell what built a program: the Go linker writes a
// "Go" note of type 4 (NT_GO_BUILDID, cmd/link's .note.go.buildid), with cgo's external link too.
import type { ByteSource } from './byte-source.js';
import { PT_NOTE } from './constants.js';
import { readLayout } from './layout.js';

const NT_GO_BUILDID = 4;
const MAX_NOTE_BYTES = 64 * 1024; // build-id and ABI notes are tens of bytes; more is not a note we want
const MAX_PHNUM = 1024;

export interface ElfNote {
  name: string;
  type: number;
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
      const b = src.read(seg.offset, size, 'note segment');
      // Elf_Nhdr: namesz, descsz, type; name and desc each padded to 4 bytes.
      for (let at = 0; at + 12 <= b.length;) {
        const namesz = f.u32(b, at), descsz = f.u32(b, at + 4), type = f.u32(b, at + 8);
        const nameEnd = at + 12 + namesz;
        if (nameEnd > b.length) break;
        notes.push({ name: b.toString('latin1', at + 12, nameEnd).replace(/\0+$/, ''), type });
        at = nameEnd + ((4 - (namesz % 4)) % 4) + descsz + ((4 - (descsz % 4)) % 4);
      }
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
