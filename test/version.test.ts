import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ELFPACK_VERSION } from '../src/version.js';
import { REPO } from './support/helpers.js';

describe('version', () => {
  it('the version SBOMs name is package.json\'s', () => {
    expect(ELFPACK_VERSION).to.equal(JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version);
  });
});
