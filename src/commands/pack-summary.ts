// The pack result for people (the summary on stderr) and for machines (schema elfpack.pack/v1).
import { escapeControls, escapeName } from '../escape.js';
import { platformName } from '../oci/platform.js';
import { plain, type Painter } from './ldd.js';
import type { LayerSummary, PackResult, PackTrace } from './pack.js';

function mb(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1e3).toFixed(1)} kB`;
}

/** The summary, for stderr: what went in, how big, the largest files, the digest. */
export function renderPackSummary(r: PackResult, paint: Painter = plain): string[] {
  const lines: string[] = [];
  const program = escapeName(r.program);
  if (r.linkage !== 'dynamic') lines.push(`${program}: ${r.linkage}`);
  const where = [r.out, r.rootfs].filter(Boolean).map((p) => escapeName(p!)).join(' and ') || 'the engine';
  lines.push(`${paint.bold(`packed ${program}`)} → ${where} (${r.tag}, ${platformName(r.platform)})`);
  lines.push(`  ${r.files.length} files, ${mb(r.totalBytes)}; entrypoint ${escapeControls(JSON.stringify([...r.entrypoint, ...r.cmd]))}`);
  const largest = [...r.files].sort((a, b) => b.size - a.size || (a.path < b.path ? -1 : 1)).slice(0, 5);
  lines.push(`  largest: ${largest.map((f) => `${escapeName(f.path)} ${paint.dim(mb(f.size))}`).join(', ')}`);
  if (r.trace) lines.push(...renderTrace(r.trace));
  for (const a of r.added) lines.push(`  added ${escapeControls(a)}`);
  for (const n of r.notes) lines.push(`  note: ${escapeControls(n)}`);
  for (const w of r.warnings) lines.push(`  ${paint.red('warning:')} ${escapeControls(w)}`);
  if (r.layers.length > 1) lines.push(`  ${r.layers.length} layers: ${r.layers.map(layerLine).join('; ')}`);
  if (r.digest) lines.push(`  digest ${r.digest}${r.compression ? ` (layers: ${r.compression === 'none' ? 'uncompressed' : r.compression}, ${mb(r.layerBytes ?? 0)})` : ''}`);
  if (r.sbom) lines.push(`  sbom: ${r.sbom.formats.map((f) => (f === 'spdx' ? 'SPDX 2.3' : 'CycloneDX 1.5')).join(' and ')} attested (${r.sbom.attestation}) in index ${r.indexDigest}${r.sbom.files.length ? `; written to ${r.sbom.files.map(escapeName).join(', ')}` : ''}`);
  if (r.verified) lines.push(`  verified: exited ${r.verified.exitCode} in ${r.verified.seconds.toFixed(1)} s`);
  return lines;
}

/** "libssl3 (2 files, 5.4 MB)"; the other libraries by their count. */
function layerLine(l: LayerSummary): string {
  const what = l.kind === 'libraries' && l.holds.length > 1 ? `${l.holds.length} more library groups` : l.holds.map(escapeName).join(', ');
  return `${what} (${l.files} file${l.files === 1 ? '' : 's'}, ${mb(l.bytes)})`;
}

/** What the traced runs did and what they added, by directory (the largest 12, then a count). */
function renderTrace(t: PackTrace): string[] {
  const runs = t.runs.map((r) => `${escapeControls(JSON.stringify(r.args))} ${r.timedOut ? 'stopped after the timeout' : r.signal ? `killed by ${r.signal}` : `exited ${r.exitCode}`}`);
  const files = t.added.reduce((n, g) => n + g.files, 0);
  const bytes = t.added.reduce((n, g) => n + g.bytes, 0);
  const lines = [`  traced ${runs.join('; ')}${t.emulator ? ` (${t.emulator})` : ''}: ${t.paths.length} paths used; ${files} files (${mb(bytes)}) added beyond the closure`];
  for (const g of t.added.slice(0, 12)) lines.push(`    ${escapeName(g.dir)}/: ${g.files} file${g.files === 1 ? '' : 's'}, ${mb(g.bytes)}`);
  if (t.added.length > 12) lines.push(`    and ${t.added.length - 12} more directories`);
  return lines;
}

/** The result for machines (schema elfpack.pack/v1, in the README). */
export function packToJson(r: PackResult): object {
  return {
    schema: 'elfpack.pack/v1',
    program: r.program,
    linkage: r.linkage,
    platform: r.platform,
    tag: r.tag,
    entrypoint: r.entrypoint,
    cmd: r.cmd,
    files: [...r.files].sort((a, b) => (a.path < b.path ? -1 : 1)),
    totalBytes: r.totalBytes,
    added: r.added,
    warnings: r.warnings,
    notes: r.notes,
    dlopen: r.dlopen ?? [],
    digest: r.digest ?? null,
    imageId: r.imageId ?? null,
    compression: r.compression ?? null,
    layerBytes: r.layerBytes ?? null,
    indexDigest: r.indexDigest ?? null,
    sbom: r.sbom ?? null,
    out: r.out ?? null,
    rootfs: r.rootfs ?? null,
    pushed: r.pushed ?? null,
    trace: r.trace ?? null,
    verified: r.verified ?? null,
    packages: r.packages ?? null,
    layers: r.layers,
  };
}
