// OpenSSL's subject-name hash, against openssl itself on certificates made here with the names
// that exercise its canonical form: case, runs of spaces, multi-valued RDNs (DER's SET OF order),
// non-ASCII UTF-8, BMPString and T61String values; and malformed DER refused with an error.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { singlePemCertificate, subjectHash } from '../../src/deb/subject-hash.js';
import { needCommand } from '../support/helpers.js';

describe('deb/subject-hash: openssl x509 -subject_hash, without openssl', function () {
  this.timeout(60_000);
  let dir: string;
  before(function () {
    needCommand(this, 'openssl');
    dir = mkdtempSync(join(tmpdir(), 'elfpack-subject-hash-'));
  });
  after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

  /** A self-signed certificate with `subj` (openssl req's -subj form; UTF8Strings). */
  function make(name: string, subj: string): string {
    const out = join(dir, `${name}.pem`);
    const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, `${name}.key`),
      '-out', out, '-days', '1', '-multivalue-rdn', '-utf8', '-subj', subj, '-config', '/dev/null'],
      { encoding: 'utf8', env: { ...process.env, OPENSSL_CONF: '/dev/null' } });
    expect(r.status, r.stderr).to.equal(0);
    return out;
  }
  const real = (f: string) => spawnSync('openssl', ['x509', '-noout', '-subject_hash', '-in', f], { encoding: 'utf8' }).stdout.trim();

  const names: [string, string][] = [
    ['case-and-spaces', '/CN=  Foo   BAR\tbaz /O=Example Org'],
    ['multi-valued', '/C=DE/O=Ex ample+OU=Zeta+OU=alpha+OU=Beta/CN=x'],
    ['utf8', '/CN=Főtanúsítvány  ÉKEZET/O=Überstraße'],
    ['repeated-attributes', '/CN=a/CN=B/CN=c/L=Zürich/ST=ZH/OU=1/OU=2'],
  ];
  for (const [name, subj] of names) {
    it(`${name}: ${subj}`, () => {
      const f = make(name, subj);
      expect(subjectHash(singlePemCertificate(readFileSync(f, 'latin1'))!)).to.equal(real(f));
    });
  }

  it('BMPString, T61String and PrintableString values (openssl\'s string_mask "default") are read as OpenSSL reads them', () => {
    const cnf = join(dir, 'mask.cnf');
    writeFileSync(cnf, '[req]\ndistinguished_name = dn\nstring_mask = default\n[dn]\n');
    const f = join(dir, 'mask.pem');
    const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'mask.key'), '-out', f, '-days', '1',
      '-utf8', '-config', cnf, '-subj', '/CN=ЖЖ  Mixed Case/O=Ärger  GmbH/OU=Plain  Text'], { encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    const types = spawnSync('openssl', ['asn1parse', '-in', f], { encoding: 'latin1' }).stdout;
    expect(types).to.match(/BMPSTRING/).and.match(/T61STRING/).and.match(/PRINTABLESTRING/);
    expect(subjectHash(singlePemCertificate(readFileSync(f, 'latin1'))!)).to.equal(real(f));
  });

  it('truncated or foreign DER is an error, not a wrong hash', () => {
    const der = singlePemCertificate(readFileSync(make('cut', '/CN=cut'), 'latin1'))!;
    for (const n of [0, 1, 2, 10, 40]) expect(() => subjectHash(der.subarray(0, n)), `${n} bytes`).to.throw();
    expect(() => subjectHash(Buffer.from([0x04, 0x01, 0x00]))).to.throw(/not a certificate/);
    expect(singlePemCertificate(`${readFileSync(join(dir, 'cut.pem'), 'latin1')}${readFileSync(join(dir, 'cut.pem'), 'latin1')}`)).to.equal(undefined);
  });
});
