// A JSON value in a cache file, sealed with its SHA256: a header line "MAGIC SHA256" and the JSON.
// A reader gets the value back only when the file is whole and unchanged (a run killed mid-write
// leaves nothing, as files are written to a temporary name and renamed; a truncated or garbled
// file, or one of another format, reads as undefined). The caller still checks the value's shape.
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { writeFileAtomically } from './temp-files.js';

/** Writes `value` as JSON under `magic` (one word: the format and its version), atomically. */
export async function writeSealedJson(path: string, magic: string, value: unknown): Promise<void> {
  const body = JSON.stringify(value);
  const sum = createHash('sha256').update(body).digest('hex');
  await writeFileAtomically(path, async (out) => { out.end(`${magic} ${sum}\n${body}`); });
}

/** The value sealed at `path` under `magic`, or undefined: missing, larger than `maxBytes`, damaged or another format. */
export function readSealedJson(path: string, magic: string, maxBytes: number): unknown {
  try {
    if (statSync(path).size > maxBytes) return undefined;
    const text = readFileSync(path, 'utf8');
    const nl = text.indexOf('\n');
    if (nl < 0 || text.slice(0, nl) !== `${magic} ${createHash('sha256').update(text.slice(nl + 1)).digest('hex')}`) return undefined;
    return JSON.parse(text.slice(nl + 1));
  } catch {
    return undefined;
  }
}
