// The image config: one model read and written — what elfpack writes reads back as the same
// model, in a fixed key order (the digest depends on the bytes).
import { expect } from 'chai';
import { configDocument, imageConfigOf, normalizePort, withDefaultPath, DEFAULT_PATH, type ImageConfig } from '../../src/oci/config.js';
import type { Platform } from '../../src/oci/platform.js';

describe('oci/config', () => {
  it('ports: N means N/tcp; nonsense is refused', () => {
    expect(normalizePort('80')).to.equal('80/tcp');
    expect(normalizePort('53/udp')).to.equal('53/udp');
    expect(() => normalizePort('70000')).to.throw(/bad port/);
  });

  it('a config written reads back as the model it was written from; keys in a fixed order', () => {
    const config: ImageConfig & { platform: Platform } = {
      platform: { os: 'linux', architecture: 'arm', variant: 'v7' },
      entrypoint: ['/app'], cmd: ['-v'], env: withDefaultPath(['A=1']), workingDir: '/srv', user: 'nonroot',
      ports: ['8080/tcp', '53/udp'], labels: { z: '1', a: '2' },
    };
    const doc = configDocument(config, ['sha256:' + 'a'.repeat(64)], { created: new Date(1700000000 * 1000), createdBy: 'elfpack /app' });
    expect(JSON.stringify(doc)).to.equal(JSON.stringify({
      created: '2023-11-14T22:13:20Z', architecture: 'arm', variant: 'v7', os: 'linux',
      config: { User: 'nonroot', ExposedPorts: { '53/udp': {}, '8080/tcp': {} }, Env: [`PATH=${DEFAULT_PATH}`, 'A=1'], Entrypoint: ['/app'], Cmd: ['-v'], WorkingDir: '/srv', Labels: { a: '2', z: '1' } },
      rootfs: { type: 'layers', diff_ids: ['sha256:' + 'a'.repeat(64)] },
      history: [{ created: '2023-11-14T22:13:20Z', created_by: 'elfpack /app', comment: 'elfpack' }],
    }));
    const back = imageConfigOf(JSON.parse(JSON.stringify(doc)));
    expect(back).to.deep.equal({ ...config, ports: ['53/udp', '8080/tcp'], labels: { a: '2', z: '1' } });
  });

  it('fields of the wrong type read as empty, never as something else', () => {
    expect(imageConfigOf({ architecture: 7, config: { Entrypoint: 'x', Env: ['A=1', 3], ExposedPorts: [], Labels: { a: 1, b: 'c' } } })).to.deep.equal({
      platform: undefined, entrypoint: [], cmd: [], env: ['A=1'], workingDir: '', user: '', ports: [], labels: { b: 'c' },
    });
  });
});
