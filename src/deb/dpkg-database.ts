// The files dpkg would leave in /var/lib/dpkg for packages it unpacked and configured (dpkg(1),
// deb-control(5)): status with each package's control fields and "Status: install ok installed"
// (sorted by name and architecture, as dpkg writes it), and info/PKG[:ARCH].list (the paths the
// package installed, archive order, "/." for the root) beside the control members dpkg keeps
// there (md5sums, conffiles, maintainer scripts, triggers, shlibs…). dpkg adds ":ARCH" to these
// names only for Multi-Arch: same packages; root/dpkg-db.ts reads both forms.
import { fieldOf, formatDeb822, valueOf, type Deb822Paragraph } from '../root/deb822.js';
import type { DebEntry } from './deb-entry.js';
import type { DebFile } from './deb-file.js';

export const DPKG_ADMIN_DIR = '/var/lib/dpkg';

export interface InstalledDeb {
  deb: DebFile;
  entries: DebEntry[];
}

/** The base name of a package's info files: "libc6:amd64" for Multi-Arch: same, else "jq". */
export function infoName(deb: DebFile): string {
  return valueOf(deb.control.paragraph, 'Multi-Arch') === 'same' ? `${deb.name}:${deb.arch}` : deb.name;
}

/** The package's status record: its control fields with Status second, where dpkg puts it. */
export function statusParagraph(p: Deb822Paragraph): string {
  const status = { name: 'Status', value: 'install ok installed', lines: ['Status: install ok installed'] };
  const fields = p.fields.filter((f) => f.name.toLowerCase() !== 'status');
  const at = fields.findIndex((f) => f.name.toLowerCase() === 'package') + 1;
  return formatDeb822({ fields: [...fields.slice(0, at), status, ...fields.slice(at)], line: p.line });
}

/** Path → bytes of dpkg's database for `pkgs` (the last of two with one name and arch wins). */
export function dpkgDatabaseFiles(pkgs: InstalledDeb[]): Map<string, Buffer> {
  const byKey = new Map<string, InstalledDeb>();
  for (const p of pkgs) byKey.set(`${p.deb.name}\0${p.deb.arch}`, p);
  const sorted = [...byKey.values()].sort((a, b) => cmp(a.deb.name, b.deb.name) || cmp(a.deb.arch, b.deb.arch));
  const files = new Map<string, Buffer>();
  files.set(`${DPKG_ADMIN_DIR}/status`, Buffer.from(sorted.map((p) => statusParagraph(p.deb.control.paragraph)).join('\n')));
  for (const { deb, entries } of sorted) {
    const base = `${DPKG_ADMIN_DIR}/info/${infoName(deb)}`;
    files.set(`${base}.list`, Buffer.from(entries.map((e) => (e.path === '/' ? '/.' : e.path)).join('\n') + (entries.length ? '\n' : '')));
    for (const [name, bytes] of [...deb.control.files].sort(([a], [b]) => cmp(a, b))) {
      // "control" is in status; a name with a slash is nothing dpkg keeps.
      if (name === 'control' || name.includes('/')) continue;
      files.set(`${base}.${name}`, bytes);
    }
  }
  return files;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Whether the paragraph names the package and version `name`, `version` (for index/deb agreement). */
export function sameRecord(p: Deb822Paragraph, deb: DebFile): boolean {
  return (!fieldOf(p, 'Package') || valueOf(p, 'Package') === deb.name) && (!fieldOf(p, 'Version') || valueOf(p, 'Version') === deb.version);
}
