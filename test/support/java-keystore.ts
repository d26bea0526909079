// Java keystores for the tests: a reader of JKS trusted-cert entries (the test's own, not
// src/'s writer read back), and Debian's ca-certificates-java jar run on a store elsewhere than
// /etc/ssl/certs/java/cacerts.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A JKS store's trusted-cert entries in file order (the test's own reader: tag 2 entries only). */
export function readJks(b: Buffer): { alias: string; date: number; der: Buffer }[] {
  expect(b.readUInt32BE(0)).to.equal(0xfeedfeed);
  expect(b.readUInt32BE(4)).to.equal(2);
  const out = [];
  let at = 12;
  const utf = () => { const n = b.readUInt16BE(at); const s = b.subarray(at + 2, at + 2 + n).toString('utf8'); at += 2 + n; return s; };
  for (let i = b.readUInt32BE(8); i > 0; i--) {
    expect(b.readUInt32BE(at)).to.equal(2);
    at += 4;
    const alias = utf();
    const date = Number(b.readBigInt64BE(at));
    at += 8;
    expect(utf()).to.equal('X.509');
    const n = b.readUInt32BE(at);
    out.push({ alias, date, der: b.subarray(at + 4, at + 4 + n) });
    at += 4 + n;
  }
  expect(at + 20).to.equal(b.length);
  return out;
}

/**
 * The postinst's last step, `java -jar $JAR -storepass changeit < fresh`, for the "+PATH" lines of
 * `pems` (in the order given), storing at `file`: the jar's main names /etc/ssl/certs/java/cacerts,
 * so its constructor and methods are called by reflection. `dir` holds the launcher's source.
 */
export function runDebianJar(jar: string, file: string, pems: string[], dir: string): void {
  writeFileSync(join(dir, 'Run.java'), `import java.lang.reflect.*;
public class Run { public static void main(String[] a) throws Exception {
  Class<?> c = Class.forName("org.debian.security.UpdateCertificates");
  Object u = c.getConstructor(String.class, String.class).newInstance(a[0], "changeit"); // (keystore file, storepass)
  Method p = c.getDeclaredMethod("processChanges", java.io.Reader.class); p.setAccessible(true);
  p.invoke(u, new java.io.InputStreamReader(System.in, "UTF8"));
  Method f = c.getDeclaredMethod("finish"); f.setAccessible(true); f.invoke(u);
} }\n`);
  const input = pems.map((p) => `+${p}\n`).join('');
  const r = spawnSync('java', ['-cp', jar, join(dir, 'Run.java'), file], { cwd: dir, input, encoding: 'utf8', timeout: 60_000 });
  expect(r.status, r.stderr).to.equal(0);
  expect(r.stderr, 'every certificate read').not.to.match(/problem reading/);
}
