import { expect } from 'chai';
import { abiCompatible, machineInfo } from '../../src/elf/machines.js';

describe('elf/machines', () => {
  it('maps ARM hard float and soft float to different platforms and loaders', () => {
    const hf = machineInfo({ machine: 40, elfClass: 1, data: 1, flags: 0x05000400 })!;
    const sf = machineInfo({ machine: 40, elfClass: 1, data: 1, flags: 0x05000200 })!;
    expect([hf.ociArch, hf.ociVariant, hf.glibcLoader]).to.deep.equal(['arm', 'v7', '/lib/ld-linux-armhf.so.3']);
    expect([sf.ociArch, sf.ociVariant, sf.glibcLoader]).to.deep.equal(['arm', 'v5', '/lib/ld-linux.so.3']);
    expect(abiCompatible({ machine: 40, elfClass: 1, data: 1, flags: 0x05000400 }, { machine: 40, elfClass: 1, data: 1, flags: 0x05000200 })).to.equal(false);
  });

  it('tells ppc64le from big-endian ppc64 by byte order', () => {
    expect(machineInfo({ machine: 21, elfClass: 2, data: 1, flags: 2 })!.ociArch).to.equal('ppc64le');
    expect(machineInfo({ machine: 21, elfClass: 2, data: 2, flags: 1 })!.glibcLoader).to.equal('/lib64/ld64.so.1');
  });

  it('gives each supported machine an OCI arch, a triplet and a loader', () => {
    for (const [machine, elfClass, data, arch] of [[62, 2, 1, 'amd64'], [3, 1, 1, '386'], [183, 2, 1, 'arm64'], [243, 2, 1, 'riscv64'], [22, 2, 2, 's390x'], [8, 2, 1, 'mips64le'], [8, 1, 1, 'mipsle']] as const) {
      const m = machineInfo({ machine, elfClass, data, flags: machine === 243 ? 4 : 0 })!;
      expect(m.ociArch).to.equal(arch);
      expect(m.triplet).to.match(/-linux-gnu/);
      expect(m.glibcLoader).to.match(/^\/lib/);
    }
  });

  it('a 32-bit library does not fit a 64-bit program', () => {
    expect(abiCompatible({ machine: 62, elfClass: 2, data: 1, flags: 0 }, { machine: 3, elfClass: 1, data: 1, flags: 0 })).to.equal(false);
  });
});
