import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { attachAttestations, buildAttestation, imagePurl, PREDICATE_CYCLONEDX, PREDICATE_SPDX } from '../../src/oci/attestation.js';
import { jsonBlob } from '../../src/oci/blob.js';
import { buildIndex, buildManifest, imagesOf, manifestsBottomUp, type Image } from '../../src/oci/image.js';
import { MEDIA } from '../../src/oci/media-types.js';

function image(architecture: string): Image {
  return buildManifest({ os: 'linux', architecture }, jsonBlob(MEDIA.config, { architecture, os: 'linux' }), []);
}

function bytes(b: { content: unknown }): Buffer {
  return (b.content as { bytes: Buffer }).bytes;
}

describe('attestation: SBOMs in BuildKit\'s layout', () => {
  const img = buildManifest({ os: 'linux', architecture: 'arm', variant: 'v7' }, jsonBlob(MEDIA.config, {}), []);
  const digest = img.manifest.descriptor.digest;
  const a = buildAttestation(imagePurl('curl', 'latest', img.platform!), img, [
    { predicateType: PREDICATE_SPDX, predicate: { spdxVersion: 'SPDX-2.3' } },
    { predicateType: PREDICATE_CYCLONEDX, predicate: { bomFormat: 'CycloneDX' } },
  ]);

  it('the index entry is unknown/unknown and points at the image manifest', () => {
    expect(a.platform).to.deep.equal({ architecture: 'unknown', os: 'unknown' });
    expect(a.annotations).to.deep.equal({ 'vnd.docker.reference.digest': digest, 'vnd.docker.reference.type': 'attestation-manifest' });
    const entry = JSON.parse(bytes(buildIndex([img, a]).index).toString()).manifests[1];
    expect(entry).to.deep.include({ mediaType: MEDIA.manifest, digest: a.manifest.descriptor.digest, platform: { architecture: 'unknown', os: 'unknown' } });
    expect(entry.annotations['vnd.docker.reference.digest']).to.equal(digest);
  });

  it('each blob is named by the sha256 of its bytes, and the manifest lists one in-toto layer per document', () => {
    for (const b of [a.manifest, a.config, ...a.layers]) expect(b.descriptor.digest).to.equal(`sha256:${createHash('sha256').update(bytes(b)).digest('hex')}`);
    const manifest = JSON.parse(bytes(a.manifest).toString());
    expect(manifest.config.digest).to.equal(a.config.descriptor.digest);
    expect(manifest.layers.map((l: any) => [l.mediaType, l.annotations['in-toto.io/predicate-type']])).to.deep.equal([
      ['application/vnd.in-toto+json', 'https://spdx.dev/Document'],
      ['application/vnd.in-toto+json', 'https://cyclonedx.org/bom'],
    ]);
    const statement = JSON.parse(bytes(a.layers[0]).toString());
    expect(statement.subject).to.deep.equal([{ name: 'pkg:docker/curl@latest?platform=linux%2Farm%2Fv7', digest: { sha256: digest.slice(7) } }]);
    expect(statement.predicate).to.deep.equal({ spdxVersion: 'SPDX-2.3' });
  });

  it('several platforms: the images first, then one attestation per image in their order; imagesOf skips attestations', () => {
    const built = buildIndex([image('amd64'), image('arm64')]);
    const idx = attachAttestations(built, { name: 'x', tag: '1' }, (i) => [{ predicateType: PREDICATE_SPDX, predicate: { name: i.platform!.architecture } }]);
    const entries = JSON.parse(bytes(idx.index).toString()).manifests;
    expect(entries.map((e: any) => e.platform.architecture)).to.deep.equal(['amd64', 'arm64', 'unknown', 'unknown']);
    expect(entries[2].annotations['vnd.docker.reference.digest']).to.equal(entries[0].digest);
    expect(entries[3].annotations['vnd.docker.reference.digest']).to.equal(entries[1].digest);
    expect(imagesOf(idx).map((i) => i.platform!.architecture)).to.deep.equal(['amd64', 'arm64']);
    expect(manifestsBottomUp(idx)).to.have.length(5);
  });
});
