// Which rule puts the CA bundle in an image: --ca-certs, a TLS library in the closure, or a Go
// program with crypto/x509 in its function table; and that nothing else does.
import { expect } from 'chai';
import { caBundleRule, TLS_LIBRARIES } from '../../src/closure/ca-bundle-rule.js';
import { HostRoot } from '../../src/root/host-root.js';
import { fixture } from '../support/helpers.js';

const root = new HostRoot('/');
const lib = (path: string, soname?: string) => ({ path, elf: { soname } });
const libc = lib('/usr/lib/x86_64-linux-gnu/libc.so.6', 'libc.so.6');

describe('closure/ca-bundle-rule', () => {
  it('each TLS library, by SONAME, says it is the reason', () => {
    for (const prefix of TLS_LIBRARIES) {
      const soname = `${prefix}.3`;
      expect(caBundleRule(root, { objects: [libc, lib(`/usr/lib/${soname}`, soname)], programs: [] })).to.equal(`${soname} is in the closure`);
    }
  });

  it('a library without a SONAME is known by its file name; OpenSSL is named before GnuTLS', () => {
    expect(caBundleRule(root, { objects: [lib('/opt/lib/libgnutls.so.30', 'libgnutls.so.30'), lib('/opt/lib/libssl.so.3')], programs: [] })).to.equal('libssl.so.3 is in the closure');
  });

  it('libcrypto alone, or a library merely named like one (libsslx), is no reason', () => {
    expect(caBundleRule(root, { objects: [libc, lib('/x/libcrypto.so.3', 'libcrypto.so.3'), lib('/x/libsslx.so.1', 'libsslx.so.1')], programs: [] })).to.equal(undefined);
  });

  it('a Go program with crypto/x509 in its function table is a reason, a Go hello is not', function () {
    const tls = fixture(this, 'go/gotls');
    const hello = fixture(this, 'go/gostatic');
    expect(caBundleRule(root, { objects: [], programs: [{ path: hello, shown: '/hello' }] })).to.equal(undefined);
    expect(caBundleRule(root, { objects: [], programs: [{ path: hello, shown: '/hello' }, { path: tls, shown: '/gotls' }] }))
      .to.match(/^the Go program \/gotls uses crypto\/x509 \(crypto\/x509\.\S+ is in its function table\)$/);
  });

  it('a C program is no reason; --ca-certs always is; --bare without --ca-certs never is', function () {
    const tls = fixture(this, 'go/gotls');
    expect(caBundleRule(root, { objects: [libc], programs: [{ path: '/bin/true', shown: '/bin/true' }] })).to.equal(undefined);
    expect(caBundleRule(root, { caCerts: true, objects: [], programs: [] })).to.equal('--ca-certs asks for it');
    expect(caBundleRule(root, { bare: true, caCerts: true, objects: [], programs: [] })).to.equal('--ca-certs asks for it');
    expect(caBundleRule(root, { bare: true, objects: [lib('/x/libssl.so.3', 'libssl.so.3')], programs: [{ path: tls, shown: '/gotls' }] })).to.equal(undefined);
  });
});
