// Raw deflate (RFC 1951) of independent blocks on worker threads, for gzip-layer.ts: each job is
// one block with the 32 KiB that precede it as a preset dictionary, ended by a sync flush (or the
// final block), so the results concatenate into one deflate stream, as pigz does. The worker runs
// the same zlib call as the calling thread would (deflateBlock below), so where a block is
// compressed never changes its bytes.
import { Worker } from 'node:worker_threads';
import { constants, deflateRawSync, type ZlibOptions } from 'node:zlib';

/**
 * zlib options of one block: everything but the data; the same on either side of a thread.
 * memLevel 9 (zlib's default is 8): a larger hash table, 7-10% faster here at levels 3-4 for
 * 0.2-0.4% more bytes.
 */
function blockOptions(level: number, last: boolean, dict: Uint8Array | undefined): ZlibOptions {
  const o: ZlibOptions = { level, memLevel: 9, windowBits: 15, strategy: constants.Z_DEFAULT_STRATEGY, finishFlush: last ? constants.Z_FINISH : constants.Z_SYNC_FLUSH };
  if (dict) o.dictionary = dict;
  return o;
}

/** One block, on this thread. */
export function deflateBlock(data: Uint8Array, dict: Uint8Array | undefined, last: boolean, level: number): Buffer {
  return deflateRawSync(data, blockOptions(level, last, dict));
}

// The worker is a string evaluated by Node (not a file), so the bundled CLI needs nothing beside it.
// It must build the same options as blockOptions: the test "the same bytes on any number of
// workers" compares the two.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const zlib = require('node:zlib');
const c = zlib.constants;
parentPort.on('message', (m) => {
  try {
    const o = { level: m.level, memLevel: 9, windowBits: 15, strategy: c.Z_DEFAULT_STRATEGY, finishFlush: m.last ? c.Z_FINISH : c.Z_SYNC_FLUSH };
    if (m.dict) o.dictionary = new Uint8Array(m.dict);
    const out = zlib.deflateRawSync(new Uint8Array(m.data, 0, m.length), o);
    const own = out.byteOffset === 0 && out.buffer.byteLength === out.length ? out.buffer : out.buffer.slice(out.byteOffset, out.byteOffset + out.length);
    parentPort.postMessage({ id: m.id, out: own, data: m.data }, [own, m.data]);
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: String((e && e.message) || e) });
  }
});
`;

/** A compressed block, and the input's buffer handed back for reuse. */
export interface DeflateResult { out: Buffer; input: ArrayBuffer }

interface Job {
  id: number;
  data: ArrayBuffer;
  length: number;
  dict?: ArrayBuffer;
  last: boolean;
  level: number;
  resolve: (r: DeflateResult) => void;
  reject: (e: Error) => void;
}

interface Slot { worker: Worker; job?: Job }

/**
 * A fixed set of workers taking blocks in turn. Idle workers are unref'd, so a pool left alive
 * between layers never holds the process open; workers with a job are ref'd until it returns.
 */
export class DeflatePool {
  private slots: Slot[] = [];
  private queue: Job[] = [];
  private nextId = 0;
  private broken?: Error;

  constructor(readonly size: number) {
    for (let i = 0; i < size; i++) {
      const worker = new Worker(WORKER_SOURCE, { eval: true });
      const slot: Slot = { worker };
      worker.unref();
      worker.on('message', (m: { id: number; out?: ArrayBuffer; data?: ArrayBuffer; error?: string }) => this.done(slot, m));
      worker.on('error', (err) => this.fail(err));
      worker.on('exit', (code) => { if (!this.broken) this.fail(new Error(`a compression worker exited (status ${code})`)); });
      this.slots.push(slot);
    }
  }

  /**
   * Compresses `length` bytes of `data`, whose buffer moves to the worker and comes back with
   * the result (the caller must not touch it meanwhile). `dict` is copied.
   */
  run(data: ArrayBuffer, length: number, dict: Uint8Array | undefined, last: boolean, level: number): Promise<DeflateResult> {
    if (this.broken) return Promise.reject(this.broken);
    return new Promise<DeflateResult>((resolve, reject) => {
      const d = dict ? dict.buffer.slice(dict.byteOffset, dict.byteOffset + dict.length) as ArrayBuffer : undefined;
      this.queue.push({ id: this.nextId++, data, length, dict: d, last, level, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.job || !this.queue.length) continue;
      const job = this.queue.shift()!;
      slot.job = job;
      slot.worker.ref();
      const transfer = [job.data, ...(job.dict ? [job.dict] : [])];
      slot.worker.postMessage({ id: job.id, data: job.data, length: job.length, dict: job.dict, last: job.last, level: job.level }, transfer);
    }
  }

  private done(slot: Slot, m: { id: number; out?: ArrayBuffer; data?: ArrayBuffer; error?: string }): void {
    const job = slot.job;
    slot.job = undefined;
    slot.worker.unref();
    if (job && job.id === m.id) {
      if (m.out && m.data) job.resolve({ out: Buffer.from(m.out), input: m.data });
      else job.reject(new Error(`deflate failed: ${m.error ?? 'no output'}`));
    }
    this.dispatch();
  }

  private fail(err: Error): void {
    if (this.broken) return;
    this.broken = err;
    for (const slot of this.slots) {
      slot.job?.reject(err);
      slot.job = undefined;
      void slot.worker.terminate();
    }
    for (const job of this.queue.splice(0)) job.reject(err);
    if (shared.get(this.size) === this) shared.delete(this.size);
  }
}

const shared = new Map<number, DeflatePool>();

/** The pool of `size` workers, started on first use and kept for the next layer. */
export function deflatePool(size: number): DeflatePool {
  let p = shared.get(size);
  if (!p) {
    p = new DeflatePool(size);
    shared.set(size, p);
  }
  return p;
}
