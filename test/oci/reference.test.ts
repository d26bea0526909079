// Image names and tags: the distribution spec's grammar.
import { expect } from 'chai';
import { parseTag } from '../../src/oci/reference.js';

describe('oci/reference', () => {
  it('image names follow the distribution grammar', () => {
    expect(parseTag('app')).to.deep.equal({ repository: 'app', tag: 'latest', full: 'app:latest' });
    expect(parseTag('localhost:5000/team/app:1.2').full).to.equal('localhost:5000/team/app:1.2');
    expect(() => parseTag('App:1')).to.throw(/bad image name/);
    expect(() => parseTag('app:-x')).to.throw(/bad tag/);
  });
});
