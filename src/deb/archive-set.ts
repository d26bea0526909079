// The archives of several suites opened together, as apt reads every source line (a suite, its
// -updates, its -security): each with its own URL, components and key, and the pin priority its
// Release gives its packages; a .deb is fetched from the archive whose index listed it.
import { ElfpackError } from '../errors.js';
import { HttpStatusError } from './archive-http.js';
import { openArchive, type DebArchive, type OpenArchiveOptions } from './archive.js';
import { verificationFor, type ArchiveChoice } from './apt-sources.js';
import { defaultPinPriority } from './release.js';
import type { IndexSource } from './universe.js';

export interface SuiteArchive {
  archive: DebArchive;
  choice: ArchiveChoice;
  /** What the universe records for its packages. */
  source: IndexSource;
}

export interface ArchiveSet {
  /** In the order chosen, the main suite first; optional ones the archive lacks are left out. */
  suites: SuiteArchive[];
  /** The .deb of a plan's package from the archive of `suite`: its path in the cache. */
  fetchDeb(suite: string, filename: string, sha256: string, size: number): Promise<string>;
  /** Ends every archive's connections. */
  close(): Promise<void>;
}

export type OpenSuitesOptions = Omit<OpenArchiveOptions, 'mirror' | 'suite' | 'components' | 'keyring' | 'signedBy'> & {
  /** Keyrings for every suite, replacing the sources' Signed-By; default each source's (apt-sources.ts verificationFor). */
  keyring?: string[];
  /** apt's trusted keyrings (readTrustedKeyrings), for a source whose Signed-By names no file; none: Debian's. */
  trustedKeyrings?: string[];
};

/**
 * Opens every choice at once (InRelease verified, indexes deferred or read as `opts` says). An
 * optional one is left out when its InRelease is 404, or unreachable and not cached (offline; said
 * through onWarning); any other failure closes what was opened and is the first choice's error.
 */
export async function openSuites(choices: ArchiveChoice[], opts: OpenSuitesOptions): Promise<ArchiveSet> {
  const settled = await Promise.allSettled(choices.map((c) => openArchive({
    ...opts, mirror: c.mirror, suite: c.suite, components: c.components, ...verificationFor(c, opts.keyring, opts.trustedKeyrings),
  })));
  const failed = settled.find((s, i) => s.status === 'rejected' && !(choices[i].optional && isAbsent(s.reason)));
  settled.forEach((s, i) => {
    if (s.status === 'rejected' && !failed && s.reason instanceof ElfpackError && s.reason.code === 'DEB_UNREACHABLE') opts.onWarning?.(`note: ${s.reason.message}; ${choices[i].suite} left out`);
  });
  const opened = settled.flatMap((s, i) => (s.status === 'fulfilled' ? [{ archive: s.value, choice: choices[i] }] : []));
  if (failed) {
    await Promise.all(opened.map((o) => o.archive.close()));
    throw (failed as PromiseRejectedResult).reason;
  }
  const suites = opened.map(({ archive, choice }) => ({
    archive, choice,
    source: { mirror: archive.mirror, suite: choice.suite, aliases: [archive.release.suite, archive.release.codename].filter((n) => n && n !== choice.suite), priority: defaultPinPriority(archive.release) },
  }));
  return {
    suites,
    fetchDeb: async (suite, filename, sha256, size) => {
      const s = suites.find((x) => x.choice.suite === suite);
      if (!s) throw new ElfpackError('DEB_ARCHIVE', `${filename}: from suite ${suite}, which is not open (opened: ${suites.map((x) => x.choice.suite).join(', ')})`, { step: 'deb-fetch' });
      return s.archive.fetchDeb(filename, sha256, size);
    },
    close: async () => { await Promise.all(suites.map((s) => s.archive.close())); },
  };
}

/** An optional suite is left out when the archive has no such suite (404), or, offline, nothing of it was cached. */
function isAbsent(err: unknown): boolean {
  return (err instanceof HttpStatusError && err.status === 404) || (err instanceof ElfpackError && err.code === 'DEB_UNREACHABLE');
}
