// The root's distribution, from os-release(5): /etc/os-release, else /usr/lib/os-release. Lines of
// KEY=VALUE, the value in shell quoting (double quotes with \" \\ \$ \` escapes, or single quotes).
import type { DbReader } from './db-files.js';

export const OS_RELEASE_PATHS = ['/etc/os-release', '/usr/lib/os-release'];
/** os-release files are a few hundred bytes; a larger one is not read. */
const MAX_OS_RELEASE_BYTES = 64 * 1024;

export interface OsRelease {
  /** ID: "debian", "ubuntu", "alpine", "wolfi"… */
  id: string;
  /** VERSION_ID: "12", "3.20.3"; absent on rolling releases (Debian sid, Wolfi). */
  versionId?: string;
  prettyName?: string;
  /** The file it was read from. */
  path: string;
}

export function readOsRelease(reader: DbReader): OsRelease | undefined {
  const found = readOsReleaseVars(reader);
  if (!found) return undefined;
  const { vars, path } = found;
  return { id: vars.ID, ...(vars.VERSION_ID ? { versionId: vars.VERSION_ID } : {}), ...(vars.PRETTY_NAME ? { prettyName: vars.PRETTY_NAME } : {}), path };
}

/** Every variable of the first os-release file that names an ID, and where it was. */
export function readOsReleaseVars(reader: DbReader): { vars: Record<string, string>; path: string } | undefined {
  for (const path of OS_RELEASE_PATHS) {
    const text = reader.readTextUpTo(path, MAX_OS_RELEASE_BYTES);
    if (text === undefined) continue;
    const vars = parseOsRelease(text);
    if (vars.ID) return { vars, path };
  }
  return undefined;
}

export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (!m) continue; // comments, blank lines, anything else: os-release(5) says to ignore them
    let v = m[2];
    if (v.length >= 2 && v[0] === '"' && v.endsWith('"')) v = v.slice(1, -1).replace(/\\(["\\$`])/g, '$1');
    else if (v.length >= 2 && v[0] === "'" && v.endsWith("'")) v = v.slice(1, -1);
    out[m[1]] = v;
  }
  return out;
}
