// Errors with stable codes: the CLI prints `elfpack: PATH: message`, programs switch on `code`.
import { escapeControls, escapeName } from './escape.js';

export type ErrorCode =
  | 'NOT_ELF' // not an ELF file (and not a script)
  | 'ELF_TRUNCATED' // a structure runs past the end of the file
  | 'ELF_MALFORMED' // a structure is inconsistent (bad counts, sizes, offsets)
  | 'ELF_UNSUPPORTED' // a valid ELF we do not handle (unknown class or byte order)
  | 'NOT_REGULAR_FILE' // a directory, FIFO, socket or device where a file was expected
  | 'NOT_FOUND' // a path that does not exist inside the root
  | 'ROOT_ESCAPE' // a path that would leave the root (never followed)
  | 'SYMLINK_LOOP' // too many symbolic links (ELOOP)
  | 'NOT_A_DIRECTORY' // a path component is a file
  | 'IO' // the operating system refused a read
  | 'MISSING_LIBRARY' // a library the program needs is nowhere to be found
  | 'IMAGE_CHECK' // the image, checked before writing, would not start
  | 'IMAGE_MALFORMED' // an image tar or layout that is truncated, inconsistent or fails its digests
  | 'IMAGE_UNSUPPORTED' // a well-formed image elfpack cannot read (a zstd window or dictionary past what it reads)
  | 'IMAGE_LIMIT' // an image past a documented bound (entries, path length or depth, unpacked bytes)
  | 'SCRIPT_LOOP' // a #! interpreter chain that comes back to a script already in it, or runs past the kernel's depth
  | 'REGISTRY_AUTH' // the registry refused our credentials (401) or the push (403)
  | 'REGISTRY' // the registry failed or rejected a request
  | 'REGISTRY_TIMEOUT' // a registry request made no progress within its deadline
  | 'TRACE_UNAVAILABLE' // --trace needs a tool (bwrap, strace) or an emulator this machine lacks
  | 'TRACE_FAILED' // the traced run could not start the program
  | 'BUILD_FAILED' // the build elfpack ran (go build) failed or made something it cannot pack
  | 'VERIFY_FAILED' // --verify ran the finished image and it did not exit 0 (or ran past its time limit)
  | 'PACKAGE_DB' // the root's package database (dpkg, apk) is past a documented bound
  | 'DEB_ARCHIVE' // a Debian archive answered with an error, or sent an index or package that fails its size or hash
  | 'DEB_SIGNATURE' // a Debian archive's InRelease is not signed by a key of the keyring (or not signed at all)
  | 'DEB_UNREACHABLE' // a Debian archive could not be reached, or made no progress within its deadline
  | 'DEB_INDEX' // a Debian Packages index past a documented bound
  | 'DEB_RESOLVE' // Debian packages that cannot be installed: unknown, unsatisfiable, not built for the architecture
  | 'DEB_MALFORMED' // a .deb that is truncated, inconsistent, or holds a path that would leave the root
  | 'DEB_UNSUPPORTED' // a well-formed .deb elfpack cannot read (a format version, a compression)
  | 'DEB_LIMIT' // a .deb past a documented bound (members, entries, name lengths, unpacked bytes)
  | 'USAGE'; // bad options

export class ElfpackError extends Error {
  readonly code: ErrorCode;
  readonly path?: string;
  readonly step?: string;

  constructor(code: ErrorCode, message: string, opts: { path?: string; step?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ElfpackError';
    this.code = code;
    this.path = opts.path;
    this.step = opts.step;
  }

  /** One line for humans: `PATH: message`, control characters of names escaped (escape.ts). */
  describe(): string {
    const message = escapeControls(this.message);
    return this.path ? `${escapeName(this.path)}: ${message}` : message;
  }
}

/** A file that is not a well-formed ELF file, found while parsing it. */
export class ElfFormatError extends ElfpackError {
  constructor(code: 'NOT_ELF' | 'ELF_TRUNCATED' | 'ELF_MALFORMED' | 'ELF_UNSUPPORTED', message: string, path?: string) {
    super(code, message, { path, step: 'read-elf' });
    this.name = 'ElfFormatError';
  }
}

/** A path inside a root that cannot be resolved or opened. */
export class RootPathError extends ElfpackError {
  constructor(code: ErrorCode, message: string, path: string, cause?: unknown) {
    super(code, message, { path, step: 'root', cause });
    this.name = 'RootPathError';
  }
}

/** Attach a path to an error raised before the path was known (the ELF reader sees bytes, not names). */
export function withPath(err: unknown, path: string): unknown {
  if (err instanceof ElfpackError && !err.path) {
    (err as { path?: string }).path = path;
  }
  return err;
}
