// Model files: one binary format for ALS, ItemKNN and UserKNN.
//
//   0   "AFFINITY"             magic, 8 bytes
//   8   u32 format version     (1)
//   12  u32 reserved           (0)
//   16  u64 header offset      JSON header position
//   24  u64 header length
//   32  zero padding to 64
//   64  arrays, little-endian, each starting on a 64-byte boundary
//   ..  JSON header (UTF-8): kind, hyperparameters, dimensions, id maps, { name: { dtype, offset, length } }
//   end-16  u32 CRC-32 of every byte before it, u32 reserved, "AFFEND\0\0"
//
// Files are written to a temporary name and renamed. Loading maps the file (no copy), checks magic,
// version, checksum, bounds and alignment, then the structure of every matrix before native code uses it.
import { open } from 'node:fs/promises';
import { native, type NativeAlsFactors, type NativeCsr } from '../bindings/native.js';
import { AffinityError, ErrorCode } from './errors.js';
import { writeFileAtomic } from './files.js';
import { IdMap, type Id } from './ids.js';
import { Interactions } from './interactions.js';
import { ALS } from './als.js';
import { ItemKNN, UserKNN } from './knn.js';
import { SimilarityMatrix } from './similarity.js';

export const MODEL_FORMAT_VERSION = 1;
const MAGIC = Buffer.from('AFFINITY', 'latin1');
const END = Buffer.from('AFFEND\0\0', 'latin1');
const ALIGN = 64;

type Dtype = 'f32' | 'i32';
interface ArrayEntry {
  dtype: Dtype;
  offset: number;
  length: number;
}
interface Header {
  kind: 'als' | 'itemknn' | 'userknn';
  options: Record<string, unknown>;
  users: number;
  items: number;
  ids: { users: Id[]; items: Id[] };
  arrays: Record<string, ArrayEntry>;
  als?: { factors: number; implicit: boolean; globalMean: number };
}

export type Model = ALS | ItemKNN | UserKNN;

function corrupt(path: string, why: string): AffinityError {
  return new AffinityError(`${path}: not a valid Affinity model file: ${why}`, ErrorCode.CorruptFile);
}

/** Writes a fitted model atomically. */
export async function saveModel(model: Model, path: string): Promise<void> {
  const arrays: [string, Float32Array | Int32Array][] = [];
  let header: Omit<Header, 'arrays'>;
  const csrArrays = (prefix: string, c: { indptr: Int32Array; indices: Int32Array; data: Float32Array }) => {
    arrays.push([`${prefix}.indptr`, c.indptr], [`${prefix}.indices`, c.indices], [`${prefix}.data`, c.data]);
  };
  if (model instanceof ALS) {
    const f = model.factors;
    const data = model.data;
    csrArrays('interactions', data.csr);
    arrays.push(['userFactors', f.userFactors], ['itemFactors', f.itemFactors]);
    if (f.userBias && f.itemBias) arrays.push(['userBias', f.userBias], ['itemBias', f.itemBias]);
    header = {
      kind: 'als',
      options: { ...model.options },
      users: data.userCount,
      items: data.itemCount,
      ids: { users: [...data.users.ids], items: [...data.items.ids] },
      als: { factors: f.factors, implicit: f.implicit, globalMean: f.globalMean },
    };
  } else {
    const { data, sim, options } = model.parts();
    csrArrays('interactions', data.csr);
    csrArrays('similarity', sim);
    header = {
      kind: model instanceof ItemKNN ? 'itemknn' : 'userknn',
      options: { ...options },
      users: data.userCount,
      items: data.itemCount,
      ids: { users: [...data.users.ids], items: [...data.items.ids] },
    };
  }
  // Lay out the arrays, then the header, then the trailer; CRC over everything before the trailer.
  const entries: Record<string, ArrayEntry> = {};
  const chunks: Uint8Array[] = [];
  let offset = ALIGN;
  for (const [name, a] of arrays) {
    entries[name] = { dtype: a instanceof Float32Array ? 'f32' : 'i32', offset, length: a.length };
    chunks.push(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    const padded = Math.ceil(a.byteLength / ALIGN) * ALIGN;
    if (padded > a.byteLength) chunks.push(new Uint8Array(padded - a.byteLength));
    offset += padded;
  }
  const json = Buffer.from(JSON.stringify({ ...header, arrays: entries }), 'utf8');
  const prefix = Buffer.alloc(ALIGN);
  MAGIC.copy(prefix, 0);
  prefix.writeUInt32LE(MODEL_FORMAT_VERSION, 8);
  prefix.writeBigUInt64LE(BigInt(offset), 16);
  prefix.writeBigUInt64LE(BigInt(json.length), 24);
  const body = [prefix, ...chunks, json];
  let crc = 0;
  for (const c of body) crc = await native.crc32(c, crc);
  const trailer = Buffer.alloc(16);
  trailer.writeUInt32LE(crc >>> 0, 0);
  END.copy(trailer, 8);
  await writeFileAtomic(path, [...body, trailer]);
}

export interface LoadOptions {
  /**
   * Map the file instead of reading it (default true): arrays are views of the page cache, not copies.
   * A mapped file must be replaced by rename (as save() does), never rewritten in place: truncating a
   * mapped file makes later reads fault. Servers that reload files an operator may `cp` over should
   * pass false.
   */
  mmap?: boolean;
}

/** A file's bytes in an ArrayBuffer of its own (offset 0: array views need their alignment), read off the event loop. */
async function readWhole(path: string): Promise<ArrayBuffer> {
  const file = await open(path, 'r');
  try {
    const size = (await file.stat()).size;
    const buffer = new ArrayBuffer(size);
    for (let at = 0; at < size; ) {
      const { bytesRead } = await file.read(new Uint8Array(buffer, at), 0, size - at, at);
      if (bytesRead === 0) throw new Error(`file shrank while reading (${at} of ${size} bytes)`);
      at += bytesRead;
    }
    return buffer;
  } finally {
    await file.close();
  }
}

/** Loads a model saved by `save()`/`saveModel`, verifying it first. */
export async function loadModel(path: string, options: LoadOptions = {}): Promise<Model> {
  if (typeof path !== 'string' || path.length === 0) throw new AffinityError('path must be a non-empty string', ErrorCode.BadInput);
  let buffer: ArrayBuffer;
  try {
    if (options.mmap ?? true) {
      buffer = native.mapFile(path);
    } else {
      buffer = await readWhole(path);
    }
  } catch (err) {
    throw new AffinityError(`${path}: ${(err as Error).message}`, ErrorCode.Io, { cause: err });
  }
  const bytes = Buffer.from(buffer);
  if (bytes.length < ALIGN + 16) throw corrupt(path, `too short (${bytes.length} bytes)`);
  if (!bytes.subarray(0, 8).equals(MAGIC)) throw corrupt(path, 'wrong magic');
  const version = bytes.readUInt32LE(8);
  if (version !== MODEL_FORMAT_VERSION) throw corrupt(path, `format version ${version} is not supported (this build reads ${MODEL_FORMAT_VERSION})`);
  const trailerAt = bytes.length - 16;
  if (!bytes.subarray(trailerAt + 8).equals(END)) throw corrupt(path, 'missing end marker (truncated?)');
  // Checked on a worker thread: a model file can be hundreds of MB and servers reload them live.
  if ((await native.crc32(bytes.subarray(0, trailerAt))) >>> 0 !== bytes.readUInt32LE(trailerAt)) throw corrupt(path, 'checksum mismatch');
  const headerOffset = Number(bytes.readBigUInt64LE(16));
  const headerLength = Number(bytes.readBigUInt64LE(24));
  if (headerOffset < ALIGN || headerOffset + headerLength !== trailerAt) throw corrupt(path, 'header out of bounds');
  let header: Header;
  try {
    header = JSON.parse(bytes.subarray(headerOffset, headerOffset + headerLength).toString('utf8')) as Header;
  } catch {
    throw corrupt(path, 'header is not JSON');
  }
  await new Promise((resolve) => setImmediate(resolve)); // the parse and the id maps are separate stretches of the event loop
  const { users, items } = header;
  if (!['als', 'itemknn', 'userknn'].includes(header.kind)) throw corrupt(path, `unknown model kind ${String(header.kind)}`);
  if (!Number.isInteger(users) || !Number.isInteger(items) || users < 0 || items < 0) throw corrupt(path, 'bad dimensions');
  if (!Array.isArray(header.ids?.users) || header.ids.users.length !== users || !Array.isArray(header.ids?.items) || header.ids.items.length !== items)
    throw corrupt(path, 'id maps do not match the dimensions');
  const view = (name: string, dtype: Dtype, length?: number): Float32Array | Int32Array => {
    const e = header.arrays?.[name];
    if (!e || e.dtype !== dtype || !Number.isInteger(e.offset) || !Number.isInteger(e.length) || e.length < 0) throw corrupt(path, `array ${name} missing or malformed`);
    if (e.offset % ALIGN !== 0 || e.offset < ALIGN || e.offset + e.length * 4 > headerOffset) throw corrupt(path, `array ${name} out of bounds`);
    if (length !== undefined && e.length !== length) throw corrupt(path, `array ${name} has ${e.length} entries, expected ${length}`);
    return dtype === 'f32' ? new Float32Array(buffer, e.offset, e.length) : new Int32Array(buffer, e.offset, e.length);
  };
  const csr = async (prefix: string, rows: number, cols: number): Promise<NativeCsr> => {
    const m: NativeCsr = {
      rows,
      cols,
      indptr: view(`${prefix}.indptr`, 'i32', rows + 1) as Int32Array,
      indices: view(`${prefix}.indices`, 'i32') as Int32Array,
      data: view(`${prefix}.data`, 'f32') as Float32Array,
    };
    if (m.indices.length !== m.data.length || m.indptr[rows] !== m.indices.length) throw corrupt(path, `${prefix} has inconsistent lengths`);
    await native.verifyCsr(m, null, null).catch((e: Error) => {
      throw corrupt(path, `${prefix}: ${e.message}`);
    });
    return m;
  };
  const finite = async (a: Float32Array, what: string) =>
    native.verifyFinite(a, what).catch((e: Error) => {
      throw corrupt(path, e.message);
    });
  const userIds = new IdMap(header.ids.users, 'user'), itemIds = new IdMap(header.ids.items, 'item');
  await userIds.buildIndex();
  await itemIds.buildIndex();
  if (userIds.hasDuplicates() || itemIds.hasDuplicates()) throw corrupt(path, 'duplicate ids');
  const data = Interactions.fromParts(userIds, itemIds, await csr('interactions', users, items));
  if (header.kind === 'als') {
    const a = header.als;
    if (!a || !Number.isInteger(a.factors) || a.factors < 1 || typeof a.implicit !== 'boolean' || !Number.isFinite(a.globalMean))
      throw corrupt(path, 'ALS parameters missing');
    const factors: NativeAlsFactors = {
      users,
      items,
      factors: a.factors,
      implicit: a.implicit,
      globalMean: a.globalMean,
      userFactors: view('userFactors', 'f32', users * a.factors) as Float32Array,
      itemFactors: view('itemFactors', 'f32', items * a.factors) as Float32Array,
      userBias: a.implicit ? null : (view('userBias', 'f32', users) as Float32Array),
      itemBias: a.implicit ? null : (view('itemBias', 'f32', items) as Float32Array),
    };
    for (const k of ['userFactors', 'itemFactors', 'userBias', 'itemBias'] as const) if (factors[k]) await finite(factors[k]!, k);
    try {
      return ALS.fromFactors(header.options as never, data, factors);
    } catch (err) {
      throw corrupt(path, (err as Error).message);
    }
  }
  const n = header.kind === 'itemknn' ? items : users;
  const ids = header.kind === 'itemknn' ? data.items : data.users;
  const s = await csr('similarity', n, n);
  const sim = new SimilarityMatrix(ids, s.indptr, s.indices, s.data);
  try {
    return header.kind === 'itemknn' ? ItemKNN.restore(header.options as never, data, sim) : UserKNN.restore(header.options as never, data, sim);
  } catch (err) {
    throw corrupt(path, (err as Error).message);
  }
}
