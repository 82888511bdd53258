// The decision log: an append-only file of offer decisions and their rewards, one record per line, each
// line carrying its CRC-32. Appends are group-committed: records that arrive while a write and fsync are
// in flight go out together in the next one, and each append resolves only once its record is on disk.
// A torn last line (the process was killed mid-write, so it was never acknowledged) is cut off when the
// log is opened; a bad line anywhere else is corruption. A log is compacted by writing its successor
// beside it (PATH.next, its first record the next generation), committing to it elsewhere (the policy's
// snapshot names the generation), then renaming it over PATH; open() finishes or discards a rotation that
// a crash interrupted, by the generation it is told to expect.
import { open, rename, stat, truncate, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';
import { AffinityError, ErrorCode } from '../core/errors.js';
import { readTextFile, syncDirectory } from './files.js';

/** A customer or offer id (data/ids.ts Id; this layer sits below it). */
type Id = string | number;

export interface DecisionRecord {
  t: 'd';
  id: string;
  /** Epoch milliseconds. */
  at: number;
  customer: Id;
  arm: Id;
  /** The propensity the policy gave the arm. */
  p: number;
  /** The context the decision was made in (empty for non-contextual policies). */
  x: number[];
}

export interface RewardRecord {
  t: 'r';
  id: string;
  at: number;
  reward: number;
}

/** The first record of a log written by this version: which generation of the policy's log it is. */
export interface HeaderRecord {
  t: 'h';
  generation: number;
}

export type LogRecord = DecisionRecord | RewardRecord | HeaderRecord;

export interface ReadLog {
  records: LogRecord[];
  /** Where each record ends in the file (bytes): a snapshot says how far into the log it has applied. */
  ends: number[];
  bytes: number;
  /** Bytes of a torn last line that were dropped. */
  torn: number;
}

function encode(record: LogRecord): string {
  const json = JSON.stringify(record);
  return `${(crc32(json) >>> 0).toString(16).padStart(8, '0')} ${json}\n`;
}

/** Parses a log's text; `repair` allows a torn last line (what opening for append cuts off). */
export function parseLog(text: string, path: string, repair: boolean): ReadLog {
  const records: LogRecord[] = [];
  const ends: number[] = [];
  let at = 0;
  let offset = 0;
  while (at < text.length) {
    const nl = text.indexOf('\n', at);
    const last = nl < 0 || nl + 1 === text.length;
    const line = nl < 0 ? text.slice(at) : text.slice(at, nl);
    const record = nl < 0 ? undefined : decode(line);
    if (record === undefined) {
      // Only the last line can be torn: a write is one line and its newline, appended in order.
      if (repair && last) return { records, ends, bytes: offset, torn: Buffer.byteLength(text, 'utf8') - offset };
      throw new AffinityError(`${path}: line ${records.length + 1} of the decision log is damaged`, ErrorCode.CorruptFile);
    }
    records.push(record);
    offset += Buffer.byteLength(line, 'utf8') + 1;
    ends.push(offset);
    at = nl + 1;
  }
  return { records, ends, bytes: offset, torn: 0 };
}

function decode(line: string): LogRecord | undefined {
  if (line.length < 10 || line[8] !== ' ') return undefined;
  const json = line.slice(9);
  if ((crc32(json) >>> 0).toString(16).padStart(8, '0') !== line.slice(0, 8)) return undefined;
  try {
    const r = JSON.parse(json) as LogRecord;
    if (r === null || typeof r !== 'object') return undefined;
    if (r.t === 'h') return Number.isInteger(r.generation) && r.generation >= 0 ? r : undefined;
    return (r.t === 'd' || r.t === 'r') && typeof r.id === 'string' ? r : undefined;
  } catch {
    return undefined;
  }
}

/** Reads a decision log without changing it (what `affinity ope --logs` does). */
export async function readDecisionLog(path: string): Promise<ReadLog> {
  return parseLog(await readTextFile(path), path, true);
}

export class DecisionLog {
  private pending: string[] = [];
  private waiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private flushing: Promise<void> | null = null;
  private closed = false;
  private paused = false;
  /** Set when a rotation failed after its commit: writing on to this file would write to the wrong log. */
  private broken: AffinityError | null = null;

  private constructor(
    readonly path: string,
    private handle: FileHandle,
    /** Bytes on disk after the last completed flush. */
    public bytes: number,
  ) {}

  /**
   * Opens (creating) a log for appending: returns it with what it already holds, a torn tail cut off. The
   * log must be `generation` (a log without a header is generation 0); a successor of that generation left
   * by an interrupted rotation replaces it, any other is removed.
   */
  static async open(path: string, generation = 0): Promise<{ log: DecisionLog; existing: ReadLog }> {
    const next = `${path}.next`;
    const successor = await readTextFile(next).then((text) => parseLog(text, next, true), () => null);
    if (successor) {
      const head = successor.records[0];
      if (head?.t === 'h' && head.generation === generation) await rename(next, path);
      else await unlink(next);
      await syncDirectory(dirname(path));
    }
    const size = await stat(path).then((s) => s.size, () => -1);
    let existing: ReadLog = { records: [], ends: [], bytes: 0, torn: 0 };
    if (size > 0) {
      existing = parseLog(await readTextFile(path), path, true);
      if (existing.torn > 0) await truncate(path, existing.bytes);
    }
    const head = existing.records[0];
    const found = head?.t === 'h' ? head.generation : 0;
    if (size > 0 && found !== generation) throw new AffinityError(`${path} is generation ${found} of its log, the snapshot expects ${generation}`, ErrorCode.CorruptFile);
    let handle: FileHandle;
    try {
      if (size <= 0) {
        const bytes = await writeSegment(path, [{ t: 'h', generation }]);
        existing = { records: [{ t: 'h', generation }], ends: [bytes], bytes, torn: 0 };
      }
      handle = await open(path, 'a');
    } catch (err) {
      throw new AffinityError(`cannot open the decision log ${path}: ${(err as Error).message}`, ErrorCode.Io, { cause: err });
    }
    return { log: new DecisionLog(path, handle, existing.bytes), existing };
  }

  /**
   * Stops writing: appends queue in memory until rotate() (or resume()). Call it when idle, just before
   * capturing the state the rotation commits to.
   */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    if (this.pending.length > 0 && !this.flushing) this.flushing = this.flush();
  }

  /**
   * Replaces the log by `records` (a header of `generation` first): writes PATH.next, awaits commit(bytes)
   * (the caller records the generation and size durably), renames it over PATH and goes on appending there,
   * records queued meanwhile first. Paused by the caller; resumed here whatever happens.
   */
  async rotate(generation: number, records: LogRecord[], commit: (bytes: number) => Promise<void>): Promise<void> {
    const next = `${this.path}.next`;
    let committed = false;
    try {
      const bytes = await writeSegment(next, [{ t: 'h', generation }, ...records]);
      await commit(bytes);
      committed = true;
      await rename(next, this.path);
      await syncDirectory(dirname(this.path));
      const handle = await open(this.path, 'a');
      await this.handle.close().catch(() => {});
      this.handle = handle;
      this.bytes = bytes;
    } catch (err) {
      if (!committed) await unlink(next).catch(() => {});
      else this.broken = new AffinityError(`the decision log ${this.path} could not be rotated: restart the server (${(err as Error).message})`, ErrorCode.Io, { cause: err });
      throw err;
    } finally {
      this.resume();
    }
  }

  /** Appends a record; resolves once it is on disk (fsync), together with whatever arrived meanwhile. */
  append(record: LogRecord): Promise<void> {
    if (this.closed) return Promise.reject(new AffinityError('the decision log is closed', ErrorCode.NotReady));
    if (this.broken) return Promise.reject(this.broken);
    this.pending.push(encode(record));
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (!this.flushing && !this.paused) this.flushing = this.flush();
    return done;
  }

  private async flush(): Promise<void> {
    // Let the records of this tick of the event loop join the batch.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.pending.length > 0 && !this.paused) {
      const batch = Buffer.from(this.pending.join(''), 'utf8');
      const waiters = this.waiters;
      this.pending = [];
      this.waiters = [];
      try {
        await this.handle.write(batch);
        await this.handle.sync();
        this.bytes += batch.length;
        for (const w of waiters) w.resolve();
      } catch (err) {
        const e = new AffinityError(`cannot write the decision log ${this.path}: ${(err as Error).message}`, ErrorCode.Io, { cause: err });
        for (const w of waiters) w.reject(e);
      }
    }
    this.flushing = null;
  }

  /** Nothing queued and nothing being written. */
  get idle(): boolean {
    return this.pending.length === 0 && this.flushing === null;
  }

  /** Waits for what is queued to be on disk. */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.resume();
    await this.drain();
    await this.handle.close();
  }
}

/** Writes records as a new log file (fsynced, its directory entry too); returns its size. */
async function writeSegment(path: string, records: LogRecord[]): Promise<number> {
  const body = Buffer.from(records.map(encode).join(''), 'utf8');
  const handle = await open(path, 'w');
  try {
    await handle.write(body);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await syncDirectory(dirname(path));
  return body.length;
}
