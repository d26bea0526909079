import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { buildAttestation, imagePurl, PREDICATE_CYCLONEDX, PREDICATE_SPDX } from '../../src/oci/attestation.js';

describe('attestation: SBOMs in BuildKit\'s layout', () => {
  const digest = `sha256:${'ab'.repeat(32)}`;
  const a = buildAttestation(imagePurl('curl', 'latest', { os: 'linux', architecture: 'arm', variant: 'v7' }), digest, [
    { predicateType: PREDICATE_SPDX, predicate: { spdxVersion: 'SPDX-2.3' } },
    { predicateType: PREDICATE_CYCLONEDX, predicate: { bomFormat: 'CycloneDX' } },
  ]);

  it('the index entry is unknown/unknown and points at the image manifest', () => {
    expect(a.descriptor.platform).to.deep.equal({ architecture: 'unknown', os: 'unknown' });
    expect(a.descriptor.annotations).to.deep.equal({ 'vnd.docker.reference.digest': digest, 'vnd.docker.reference.type': 'attestation-manifest' });
  });

  it('each blob is named by the sha256 of its bytes, and the manifest lists one in-toto layer per document', () => {
    for (const b of a.blobs) expect(b.digest).to.equal(`sha256:${createHash('sha256').update(b.bytes).digest('hex')}`);
    const manifest = JSON.parse(a.blobs[0].bytes.toString());
    expect(a.blobs[0].digest).to.equal(a.descriptor.digest);
    expect(manifest.layers.map((l: any) => [l.mediaType, l.annotations['in-toto.io/predicate-type']])).to.deep.equal([
      ['application/vnd.in-toto+json', 'https://spdx.dev/Document'],
      ['application/vnd.in-toto+json', 'https://cyclonedx.org/bom'],
    ]);
    const statement = JSON.parse(a.blobs[2].bytes.toString());
    expect(statement.subject).to.deep.equal([{ name: 'pkg:docker/curl@latest?platform=linux%2Farm%2Fv7', digest: { sha256: 'ab'.repeat(32) } }]);
    expect(statement.predicate).to.deep.equal({ spdxVersion: 'SPDX-2.3' });
  });
});
