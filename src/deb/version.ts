// Debian version comparison as dpkg does it (deb-version(5), dpkg's lib/dpkg/version.c):
// [epoch:]upstream[-revision]; each part compared as alternating non-digit and digit runs.

export interface DebVersion {
  epoch: number;
  upstream: string;
  revision: string;
}

/** Relations of dependency fields; "<" and ">" are the obsolete spellings of "<=" and ">=". */
export type DebRelation = '<<' | '<=' | '=' | '>=' | '>>' | '<' | '>';

/** Longest version string we compare; longer ones come only from a broken or hostile index. */
export const MAX_VERSION_LENGTH = 256;

/**
 * Splits a version into its parts. The epoch is before the first ":", the revision after the last
 * "-" (dpkg's parseversion); a missing revision is "" and compares as "0" would.
 */
export function parseDebVersion(v: string): DebVersion {
  const s = v.trim();
  const colon = s.indexOf(':');
  let epoch = 0;
  let rest = s;
  if (colon >= 0) {
    // dpkg refuses a non-numeric epoch; such a version compares as epoch 0 here rather than throw mid-resolve.
    const e = Number(s.slice(0, colon));
    epoch = Number.isSafeInteger(e) && e >= 0 ? e : 0;
    rest = s.slice(colon + 1);
  }
  const dash = rest.lastIndexOf('-');
  return dash >= 0 ? { epoch, upstream: rest.slice(0, dash), revision: rest.slice(dash + 1) } : { epoch, upstream: rest, revision: '' };
}

/** A character's weight in dpkg's order: "~" before everything, even the end; letters before other characters. */
function order(c: number): number {
  if (c >= 48 && c <= 57) return 0; // digits: compared as numbers, never here
  if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) return c;
  if (c === 126) return -1; // "~"
  return c ? c + 256 : 0; // 0: the end of the string
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** dpkg's verrevcmp: <0, 0, >0 as a sorts before, equal to, after b. Linear in the lengths. */
function comparepart(a: string, b: string): number {
  let i = 0;
  let j = 0;
  const at = (s: string, k: number) => (k < s.length ? s.charCodeAt(k) : 0);
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !isDigit(at(a, i))) || (j < b.length && !isDigit(at(b, j)))) {
      const ac = order(at(a, i));
      const bc = order(at(b, j));
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (at(a, i) === 48) i++;
    while (at(b, j) === 48) j++;
    // Digit runs of any length compare as numbers: first by the first differing digit, unless one run is longer.
    while (isDigit(at(a, i)) && isDigit(at(b, j))) {
      if (!firstDiff) firstDiff = at(a, i) - at(b, j);
      i++;
      j++;
    }
    if (isDigit(at(a, i))) return 1;
    if (isDigit(at(b, j))) return -1;
    if (firstDiff) return firstDiff;
  }
  return 0;
}

/** Compares two version strings as `dpkg --compare-versions`: negative, 0 or positive. */
export function compareDebVersions(a: string, b: string): number {
  const va = parseDebVersion(a);
  const vb = parseDebVersion(b);
  if (va.epoch !== vb.epoch) return va.epoch < vb.epoch ? -1 : 1;
  const u = comparepart(va.upstream, vb.upstream);
  if (u) return Math.sign(u);
  return Math.sign(comparepart(va.revision, vb.revision));
}

/** Whether `version` stands in `relation` to `wanted` (a dependency's "(>= 2.0)" asks satisfies(v, '>=', '2.0')). */
export function satisfiesRelation(version: string, relation: DebRelation, wanted: string): boolean {
  const c = compareDebVersions(version, wanted);
  switch (relation) {
    case '<<': return c < 0;
    case '<=':
    case '<': return c <= 0; // obsolete "<" meant "<=" (deb-control(5))
    case '=': return c === 0;
    case '>=':
    case '>': return c >= 0; // obsolete ">" meant ">="
    case '>>': return c > 0;
  }
}

export const DEB_RELATIONS: readonly DebRelation[] = ['<<', '<=', '=', '>=', '>>', '<', '>'];

export function isDebRelation(s: string): s is DebRelation {
  return (DEB_RELATIONS as readonly string[]).includes(s);
}
