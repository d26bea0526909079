import { expect } from 'chai';
import { checkRelease, defaultPinPriority, parseRelease, releaseIsFor } from '../../src/deb/release.js';
import { ElfpackError } from '../../src/errors.js';

const SHA = `SHA256:\n ${'a'.repeat(64)} 10 main/binary-amd64/Packages\n`;
const release = (fields: string) => parseRelease(`${fields.trim()}\n${SHA}`, 'test');

describe('deb/release', () => {
  it('pin priority as apt gives it without preferences: 500, NotAutomatic 1, NotAutomatic with ButAutomaticUpgrades 100', () => {
    expect(defaultPinPriority(release('Suite: stable\nCodename: bookworm'))).to.equal(500);
    expect(defaultPinPriority(release('Suite: experimental\nNotAutomatic: yes'))).to.equal(1);
    expect(defaultPinPriority(release('Suite: stable-backports\nNotAutomatic: yes\nButAutomaticUpgrades: yes'))).to.equal(100);
    // ButAutomaticUpgrades alone changes nothing: it qualifies NotAutomatic.
    expect(defaultPinPriority(release('Suite: x\nButAutomaticUpgrades: yes'))).to.equal(500);
  });

  it('a Release is for the suite named by its Suite or Codename, or for SUITE/updates by the part before the slash (apt\'s CheckDist)', () => {
    const sec = release('Suite: oldstable-security\nCodename: bookworm-security');
    expect(releaseIsFor(sec, 'bookworm-security')).to.equal(true);
    expect(releaseIsFor(sec, 'oldstable-security')).to.equal(true);
    expect(releaseIsFor(sec, 'bookworm')).to.equal(false);
    const old = release('Suite: oldoldstable\nCodename: buster');
    expect(releaseIsFor(old, 'buster/updates')).to.equal(true);
    expect(releaseIsFor(old, 'bullseye/updates')).to.equal(false);
  });

  it('components named with a path (the security archive\'s "updates/main") meet the plain name, as in apt', () => {
    const sec = release('Suite: oldstable-security\nCodename: bookworm-security\nArchitectures: amd64\nComponents: updates/main updates/contrib');
    const want = { suite: 'bookworm-security', arch: 'amd64', now: new Date(0) };
    expect(() => checkRelease(sec, { ...want, components: ['main', 'contrib'] }, 'test')).to.not.throw();
    const err = (() => { try { checkRelease(sec, { ...want, components: ['non-free'] }, 'test'); } catch (e) { return e as ElfpackError; } })();
    expect(err?.message).to.match(/no component non-free/);
  });
});
