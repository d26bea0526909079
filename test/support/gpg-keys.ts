// The keys of a keyring as gpg lists them (--show-keys --with-colons), for tests that need real
// fingerprints without writing them down: a key rotates, and the test should follow the keyring.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface KeyListing {
  primary: string;
  subkeys: string[];
  uids: string[];
}

/** Each key of `keyring` (binary or armored): its primary fingerprint, subkeys' and user IDs. */
export function listKeys(keyring: string): KeyListing[] {
  const home = mkdtempSync(join(tmpdir(), 'elfpack-gpg-'));
  try {
    const r = spawnSync('gpg', ['--homedir', home, '--batch', '--show-keys', '--with-colons', keyring], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`gpg --show-keys ${keyring}: ${r.stderr}`);
    const keys: KeyListing[] = [];
    let last: 'pub' | 'sub' | '' = '';
    for (const line of r.stdout.split('\n')) {
      const f = line.split(':');
      if (f[0] === 'pub' || f[0] === 'sub') last = f[0];
      else if (f[0] === 'fpr' && last === 'pub') keys.push({ primary: f[9], subkeys: [], uids: [] });
      else if (f[0] === 'fpr' && last === 'sub') keys[keys.length - 1].subkeys.push(f[9]);
      else if (f[0] === 'uid') keys[keys.length - 1].uids.push(f[9]);
      if (f[0] === 'fpr') last = '';
    }
    return keys;
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/** The key of `keys` with a user ID containing `uid`; an error when there is none. */
export function keyByUid(keys: KeyListing[], uid: string): KeyListing {
  const k = keys.find((x) => x.uids.some((u) => u.includes(uid)));
  if (!k) throw new Error(`no key with a user ID containing ${JSON.stringify(uid)}`);
  return k;
}

/** The key `fingerprint` of `keyring` written armored to `out` (as a trusted.gpg.d/*.asc holds it). */
export function exportKey(keyring: string, fingerprint: string, out: string): void {
  const home = mkdtempSync(join(tmpdir(), 'elfpack-gpg-'));
  try {
    const r = spawnSync('gpg', ['--homedir', home, '--batch', '--no-default-keyring', '--keyring', keyring, '--armor', '--export', fingerprint]);
    if (r.status !== 0 || !r.stdout.length) throw new Error(`gpg --export ${fingerprint}: ${r.stderr.toString()}`);
    writeFileSync(out, r.stdout);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
