// The root's package database, whichever it has: dpkg's (Debian, Ubuntu, a distroless root's
// status.d) or apk's (Alpine, Wolfi). Each answers one question: which installed package owns
// each of these real paths, and what checksum does the database record for it.
import { readApkDb, type ApkDb } from './apk-db.js';
import type { DbReader } from './db-files.js';
import { readDpkgDb, type DpkgDb } from './dpkg-db.js';

export interface InstalledPackage {
  name: string;
  version: string;
  arch: string;
  /** The source package (dpkg's Source, apk's origin), when the database names one. */
  source?: string;
  /** apk's L: field (an SPDX-style expression); dpkg's database has none (see debian-copyright.ts). */
  license?: string;
}

export interface FileOwner<P extends InstalledPackage = InstalledPackage> {
  pkg: P;
  /** What the database records for the file as installed: md5 hex (dpkg), "Q1" + base64 sha1 (apk). */
  checksum?: string;
}

export type PackageDb = DpkgDb | ApkDb;

/** The database of the reader's root: dpkg's when it has one, else apk's, else undefined. */
export function readPackageDb(reader: DbReader): PackageDb | undefined {
  return readDpkgDb(reader) ?? readApkDb(reader);
}
