// Small hand-written Packages indexes for the resolver's tests: each record's fields as given,
// with the Architecture, Filename, Size and SHA256 an index must have filled in when left out.
import { parsePackagesIndex, type PackageRecord } from '../../src/deb/packages-index.js';
import { buildUniverse, type PackageUniverse } from '../../src/deb/universe.js';

/** "Package: a\nDepends: b" paragraphs → records (throws when one is left out: a test's typo). */
export function records(paragraphs: string[], arch = 'amd64'): PackageRecord[] {
  const text = paragraphs.map((p) => {
    const has = (f: string) => new RegExp(`^${f}:`, 'mi').test(p);
    const name = /^Package: (\S+)/m.exec(p)?.[1] ?? 'x';
    const extra = [
      has('Version') ? '' : 'Version: 1.0',
      has('Architecture') ? '' : `Architecture: ${arch}`,
      `Filename: pool/main/${name[0]}/${name}/${name}_1.0_${arch}.deb`,
      'Size: 100',
      `SHA256: ${'0'.repeat(64)}`,
    ].filter(Boolean);
    return `${p.trim()}\n${extra.join('\n')}\n`;
  }).join('\n');
  const idx = parsePackagesIndex(text, 'test');
  if (idx.warnings.length) throw new Error(idx.warnings.join('\n'));
  return idx.records;
}

export function universe(...paragraphs: string[]): PackageUniverse {
  return buildUniverse([records(paragraphs)]);
}
