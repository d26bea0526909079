// pack's SBOMs (--sbom): an SPDX 2.3 and/or a CycloneDX 1.5 document of each built image, attached
// as BuildKit attaches them (oci/attestation.ts): the top of the image becomes an index of the
// image(s) and one attestation manifest per image. Built after the image, so the documents and
// their in-toto subjects name its manifest digest.
import { ElfpackError } from '../errors.js';
import { attachAttestations, PREDICATE_CYCLONEDX, PREDICATE_SPDX, REFERENCE_DIGEST, type AttestedDocument } from '../oci/attestation.js';
import { imagesOf, isAttestationManifest, isImageIndex, type Image, type ImageIndex } from '../oci/image.js';
import { parseTag } from '../oci/reference.js';
import { buildCycloneDx, buildSpdx } from '../image/sbom.js';
import { sbomInputOf } from '../image/sbom-input.js';
import { sbomFilesSink } from '../sinks/sbom-files.js';
import type { Sink, SinkReport } from '../sinks/sink.js';
import { ELFPACK_VERSION } from '../version.js';
import type { PackPlan } from './pack.js';

/** What --sbom takes: which documents each image gets (default both). */
export type SbomChoice = 'spdx' | 'cyclonedx' | 'both' | 'none';
export type SbomFormat = 'spdx' | 'cyclonedx';

export const SBOM_CHOICES: readonly SbomChoice[] = ['spdx', 'cyclonedx', 'both', 'none'];

/** The in-toto predicate type of each format (what the attestation layer's annotation says). */
export const PREDICATE_OF: Record<SbomFormat, string> = { spdx: PREDICATE_SPDX, cyclonedx: PREDICATE_CYCLONEDX };

export function sbomFormats(choice: SbomChoice = 'both'): SbomFormat[] {
  if (!SBOM_CHOICES.includes(choice)) throw new ElfpackError('USAGE', `--sbom ${choice}: want spdx, cyclonedx, both or none`);
  return choice === 'both' ? ['spdx', 'cyclonedx'] : choice === 'none' ? [] : [choice];
}

/**
 * The --sbom-out sink, when asked for; refused with --sbom none (there would be nothing to
 * write). Called with pack's sinks, before any work: a bad `sbom` of a library call stops there.
 */
export function sbomSinks(opts: { sbom?: SbomChoice; sbomOut?: string }): Sink[] {
  const formats = sbomFormats(opts.sbom);
  if (!opts.sbomOut) return [];
  if (!formats.length) throw new ElfpackError('USAGE', '--sbom-out with --sbom none: there is no SBOM to write');
  return [sbomFilesSink(opts.sbomOut)];
}

/**
 * The built image with its SBOMs attached: an index of the images then their attestation
 * manifests. `built` as it is with --sbom none (today's output, byte for byte).
 */
export function attachSboms(built: Image | ImageIndex, plans: PackPlan[]): Image | ImageIndex {
  const formats = sbomFormats(plans[0].opts.sbom);
  if (!formats.length) return built;
  const { repository, tag } = parseTag(plans[0].result.tag);
  return attachAttestations(built, { name: repository, tag }, (img, i) => sbomDocuments(plans[i], img.manifest.descriptor.digest, formats));
}

/** One plan's documents, in `formats`' order. */
export function sbomDocuments(plan: PackPlan, digest: string, formats: SbomFormat[]): AttestedDocument[] {
  const input = sbomInputOf({
    name: plan.result.tag, digest, epoch: plan.opts.epoch ?? 0, platform: plan.result.platform, tree: plan.tree, loads: plan.loads,
    packages: plan.result.packages, tool: { name: 'elfpack', version: ELFPACK_VERSION },
  });
  return formats.map((f) => ({ predicateType: PREDICATE_OF[f], predicate: f === 'spdx' ? buildSpdx(input) : buildCycloneDx(input) }));
}

/** Each plan's result gets the index digest and its SBOMs: formats, attestation manifest, files written. */
export function recordSboms(plans: PackPlan[], built: Image | ImageIndex, report: SinkReport): void {
  if (!isImageIndex(built)) return;
  const images = imagesOf(built);
  const formats = sbomFormats(plans[0].opts.sbom);
  images.forEach((img, i) => {
    const digest = img.manifest.descriptor.digest;
    const attestation = built.manifests.find((m): m is Image => !isImageIndex(m) && isAttestationManifest(m) && m.annotations?.[REFERENCE_DIGEST] === digest);
    Object.assign(plans[i].result, {
      indexDigest: built.index.descriptor.digest,
      ...(attestation ? { sbom: { formats, attestation: attestation.manifest.descriptor.digest, files: (report.sbomFiles ?? []).filter((f) => f.subject === digest).map((f) => f.path) } } : {}),
    });
  });
}
