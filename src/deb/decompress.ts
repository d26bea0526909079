// The compressions a .deb's tar members come in (deb(5): control.tar{,.gz,.xz,.zst}, data.tar
// {,.gz,.xz,.zst,.bz2,.lzma}), as stream stages: gzip through Node's zlib, zstd through our own
// bounded reader (oci/zstd-stream.ts), xz through xz-decompress (xz-embedded as WebAssembly;
// Node has no xz), loaded only when an xz member is met so that `elfpack ldd` never pays for it.
// Every stream's output is counted against a bound given by the caller (a bomb is refused).
import { Duplex, PassThrough, Readable, Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { ElfpackError } from '../errors.js';
import { zstdDecompressStages, ZstdStreamError } from '../oci/zstd-stream.js';

export type DebCompression = 'none' | 'gzip' | 'xz' | 'zstd';

/** The compression a member's name says ("data.tar.xz" → xz), or undefined for one we do not read. */
export function compressionOf(member: string, base: 'control.tar' | 'data.tar'): DebCompression | 'unsupported' | undefined {
  if (member === base) return 'none';
  if (!member.startsWith(`${base}.`)) return undefined;
  const ext = member.slice(base.length + 1);
  return ext === 'gz' ? 'gzip' : ext === 'xz' ? 'xz' : ext === 'zst' ? 'zstd' : 'unsupported';
}

/** Passed when a stream unpacks to more than its bound (the caller says so with the file's name). */
export class OverBoundError extends Error {
  constructor(readonly max: number) {
    super(`unpacks to more than ${max} bytes`);
  }
}

/** Stages that turn the compressed bytes into at most `maxBytes` plain bytes. */
export async function decompressStages(kind: DebCompression, maxBytes: number): Promise<Duplex[]> {
  const stages: Duplex[] =
    kind === 'none' ? [] : kind === 'gzip' ? [createGunzip()] : kind === 'zstd' ? await zstdDecompressStages({ maxOutputBytes: maxBytes }) : [await xzStage()];
  return [...stages, bound(maxBytes)];
}

function bound(max: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      done(seen > max ? new OverBoundError(max) : null, chunk);
    },
  });
}

interface XzModule {
  XzReadableStream: new (input: ReadableStream<Uint8Array>) => ReadableStream<Uint8Array>;
}

let xzModule: Promise<XzModule> | undefined;

async function xzStage(): Promise<Duplex> {
  xzModule ??= import('xz-decompress').then((m: unknown) => {
    const mod = m as Partial<XzModule> & { default?: XzModule };
    return mod.XzReadableStream ? (mod as XzModule) : mod.default!;
  });
  const { XzReadableStream } = await xzModule;
  const input = new PassThrough();
  // Readable.fromWeb cancels the web stream when it is destroyed, which frees the decoder
  // (xz-decompress serializes its decoders: one left open would stall the next).
  const output = Readable.fromWeb(new XzReadableStream(Readable.toWeb(input) as ReadableStream<Uint8Array>) as import('node:stream/web').ReadableStream);
  return Duplex.from({ writable: input, readable: output });
}

/** xz-embedded's return codes (xz.h enum xz_ret), said as what is wrong with the stream. */
const XZ_ERRORS: Record<string, string> = {
  2: 'the xz stream uses an integrity check xz-embedded does not read',
  3: 'the xz decoder ran out of memory',
  4: 'the xz stream needs a dictionary larger than 64 MiB',
  5: 'the xz stream is not in the xz format',
  6: 'the xz stream uses a filter or an option xz-embedded does not read',
  7: 'the xz stream is damaged',
  8: 'the xz stream is truncated',
};

/** A decompressor's error as one phrase ("the gzip stream is truncated"), and the code it earns. */
export function describeDecompressError(kind: DebCompression, err: unknown): { code: 'DEB_MALFORMED' | 'DEB_UNSUPPORTED' | 'DEB_LIMIT'; what: string } {
  if (err instanceof OverBoundError) return { code: 'DEB_LIMIT', what: err.message };
  if (err instanceof ZstdStreamError) return { code: err.overBound ? 'DEB_LIMIT' : err.code === 'IMAGE_UNSUPPORTED' ? 'DEB_UNSUPPORTED' : err.code === 'IMAGE_LIMIT' ? 'DEB_LIMIT' : 'DEB_MALFORMED', what: `the zstd stream: ${err.message}` };
  const e = err as { code?: unknown; message?: string };
  const msg = String(e?.message ?? err);
  if (kind === 'xz') {
    const m = /error code (\d+)/.exec(msg);
    if (m && XZ_ERRORS[m[1]]) return { code: ['2', '4', '6'].includes(m[1]) ? 'DEB_UNSUPPORTED' : 'DEB_MALFORMED', what: XZ_ERRORS[m[1]] };
    // The xz reader fails this way on an input that ends before any byte was read.
    if (/null|byteLength/.test(msg)) return { code: 'DEB_MALFORMED', what: 'the xz stream is truncated' };
  }
  if (e?.code === 'Z_BUF_ERROR' || e?.code === 5 || /unexpected end|truncat|premature/i.test(msg)) return { code: 'DEB_MALFORMED', what: `the ${kind} stream is truncated` };
  if (e?.code === 'Z_DATA_ERROR' || typeof e?.code === 'number' || /^ZSTD_error/.test(String(e?.code))) return { code: 'DEB_MALFORMED', what: `the ${kind} stream is damaged` };
  return { code: 'DEB_MALFORMED', what: msg.slice(0, 120) };
}

export function decompressError(kind: DebCompression, err: unknown, member: string, label: string): ElfpackError {
  if (err instanceof ElfpackError) return err;
  const { code, what } = describeDecompressError(kind, err);
  return new ElfpackError(code, `${member}: ${what}${code === 'DEB_LIMIT' ? ': refused' : ''}`, { path: label, step: 'deb', cause: err });
}
