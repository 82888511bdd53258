// The model file codec: one binary format for every model kind. It knows no model classes; a kind hands
// it parts (a JSON header and named arrays) and reads them back from a verified file.
//
//   0   "AFFINITY"             magic, 8 bytes
//   8   u32 format version     (2; version 1 files, which hold f32/i32 arrays and no parts, still load)
//   12  u32 reserved           (0)
//   16  u64 header offset      JSON header position
//   24  u64 header length
//   32  zero padding to 64
//   64  arrays, little-endian, each starting on a 64-byte boundary
//   ..  JSON header (UTF-8): kind, the kind's own fields (options, dimensions, ids...), meta (how
//       and on what it was trained), parts: { name: { kind, fields... } } for models made of models,
//       and arrays: { name: { dtype: f32|i32|f64|u8, offset, length } } (a part's arrays are "part/name")
//   end-16  u32 CRC-32 of every byte before it, u32 reserved, "AFFEND\0\0"
//
// Files are written to a temporary name and renamed. Loading maps the file (no copy), checks magic,
// version, checksum, bounds and alignment; each array a kind asks for is checked against the file, and
// CSR matrices and float arrays natively, before native code uses them.
import { open, stat } from 'node:fs/promises';
import { AffinityError, ErrorCode } from '../core/errors.js';
import { native, type NativeCsr } from '../core/native.js';
import { writeFileAtomic } from './files.js';

export const MODEL_FORMAT_VERSION = 2;
/** The versions this build reads. */
const READABLE_VERSIONS = new Set([1, 2]);
const MAGIC = Buffer.from('AFFINITY', 'latin1');
const END = Buffer.from('AFFEND\0\0', 'latin1');
const ALIGN = 64;

type Dtype = 'f32' | 'i32' | 'f64' | 'u8';
const BYTES: Record<Dtype, number> = { f32: 4, i32: 4, f64: 8, u8: 1 };
const VIEWS = { f32: Float32Array, i32: Int32Array, f64: Float64Array, u8: Uint8Array } as const;
interface ArrayEntry {
  dtype: Dtype;
  offset: number;
  length: number;
}

export type ModelArray = Float32Array | Int32Array | Float64Array | Uint8Array;

/** What a model kind stores: its kind, JSON-safe fields, named typed arrays, and the models it is made of. */
export interface ModelParts {
  kind: string;
  header: Record<string, unknown>;
  arrays: Record<string, ModelArray>;
  /** How and on what the model was trained (see TrainingMetadata); stored as the header's `meta`. */
  meta?: Record<string, unknown>;
  /** Whole models inside this one (a hybrid's content and collaborative models), each read back with file.part(name). */
  parts?: Record<string, ModelParts>;
}

/** An array as the file lists it. */
export interface ArrayInfo {
  dtype: Dtype;
  length: number;
}

/** A verified model file, read back: the header and typed views of its arrays (checked on access). */
export interface ModelFile {
  readonly path: string;
  readonly kind: string;
  /** The format version the file was written in. */
  readonly version: number;
  /** The file's size in bytes. */
  readonly bytes: number;
  /** The training metadata stored with the model (undefined in files without it). */
  readonly meta: Record<string, unknown> | undefined;
  /** The arrays this model (not its parts) stores, by name. */
  arrays(): Record<string, ArrayInfo>;
  /** The names of the models stored inside this one. */
  partNames(): string[];
  /** A model stored inside this one, read like a file of its own. */
  part(name: string): ModelFile;
  /**
   * The header's small top-level fields (each under 64 KiB of JSON: dimensions, options, parameters),
   * parsed without parsing the rest. Kinds check them against the array table (O(1)) first.
   */
  readonly fields: Record<string, unknown>;
  /** The whole header, parsed on first access: id lists can be most of a file, so read it after the O(1) checks. */
  readonly header: Record<string, unknown>;
  f32(name: string, length?: number): Float32Array;
  i32(name: string, length?: number): Int32Array;
  f64(name: string, length?: number): Float64Array;
  u8(name: string, length?: number): Uint8Array;
  /**
   * A CSR matrix stored as `${prefix}.indptr|indices|data`, verified natively (in range, finite; with
   * sortedRows, each row's columns strictly increasing, as interaction matrices must be).
   */
  csr(prefix: string, rows: number, cols: number, options?: { sortedRows?: boolean }): Promise<NativeCsr>;
  /** Rejects NaN, infinities and values beyond ±maxAbs in a float array. */
  finite(values: Float32Array, what: string, maxAbs?: number): Promise<void>;
  /** The error for anything in the file a kind finds wrong. */
  corrupt(why: string): AffinityError;
}

/** The arrays of a CSR matrix under one prefix, for ModelParts. */
export function csrArrays(prefix: string, c: { indptr: Int32Array; indices: Int32Array; data: Float32Array }): Record<string, ModelArray> {
  return { [`${prefix}.indptr`]: c.indptr, [`${prefix}.indices`]: c.indices, [`${prefix}.data`]: c.data };
}

function corrupt(path: string, why: string): AffinityError {
  return new AffinityError(`${path}: not a valid Affinity model file: ${why}`, ErrorCode.CorruptFile);
}

/** Top-level fields at most this long (bytes of JSON) are parsed eagerly into ModelFile.fields. */
const SMALL_FIELD = 64 * 1024;

/**
 * The byte range of each top-level value of a JSON object, found by a scan that tracks strings and nesting
 * without building anything; null when the text is not a JSON object (the full parse then says why).
 */
export function topLevelRanges(json: Buffer): Map<string, [number, number]> | null {
  const QUOTE = 0x22, BACKSLASH = 0x5c, COLON = 0x3a, COMMA = 0x2c;
  const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
  const ranges = new Map<string, [number, number]>();
  let i = 0;
  const n = json.length;
  const skipSpace = () => {
    while (i < n && isSpace(json[i])) i++;
  };
  const skipString = (): boolean => {
    // json[i] is the opening quote
    for (i++; i < n; i++) {
      if (json[i] === BACKSLASH) i++;
      else if (json[i] === QUOTE) return (i++, true);
    }
    return false;
  };
  skipSpace();
  if (json[i] !== 0x7b) return null;
  i++;
  skipSpace();
  if (json[i] === 0x7d) return ranges;
  for (;;) {
    skipSpace();
    if (json[i] !== QUOTE) return null;
    const keyStart = i;
    if (!skipString()) return null;
    let key: unknown;
    try {
      key = JSON.parse(json.subarray(keyStart, i).toString('utf8'));
    } catch {
      return null;
    }
    skipSpace();
    if (json[i] !== COLON) return null;
    i++;
    skipSpace();
    const from = i;
    let depth = 0;
    for (; i < n; i++) {
      const c = json[i];
      if (c === QUOTE) {
        if (!skipString()) return null;
        i--;
      } else if (c === 0x7b || c === 0x5b) depth++;
      else if (c === 0x7d || c === 0x5d) {
        if (depth === 0) break;
        depth--;
      } else if (c === COMMA && depth === 0) break;
    }
    if (i >= n) return null;
    let to = i;
    while (to > from && isSpace(json[to - 1])) to--;
    ranges.set(String(key), [from, to]);
    if (json[i] === COMMA) {
      i++;
      continue;
    }
    i++; // the closing brace
    skipSpace();
    return i === n ? ranges : null;
  }
}

/** Writes a model's parts atomically. */
/** A part's arrays, flattened under "part/": the header of each part, without arrays. */
function flatten(parts: ModelParts, prefix: string, arrays: [string, ModelArray][]): Record<string, unknown> {
  for (const [name, a] of Object.entries(parts.arrays)) arrays.push([prefix + name, a]);
  const nested = Object.entries(parts.parts ?? {}).map(([name, p]) => {
    if (name.includes('/')) throw new AffinityError(`part name ${name} must not contain "/"`, ErrorCode.BadInput);
    return [name, flatten(p, `${prefix}${name}/`, arrays)] as const;
  });
  return {
    kind: parts.kind,
    ...parts.header,
    ...(parts.meta ? { meta: parts.meta } : {}),
    ...(nested.length > 0 ? { parts: Object.fromEntries(nested) } : {}),
  };
}

export async function writeModelFile(path: string, parts: ModelParts): Promise<void> {
  // Lay out the arrays, then the header, then the trailer; CRC over everything before the trailer.
  const entries: Record<string, ArrayEntry> = {};
  const chunks: Uint8Array[] = [];
  let offset = ALIGN;
  const arrays: [string, ModelArray][] = [];
  const header = flatten(parts, '', arrays);
  for (const [name, a] of arrays) {
    const dtype: Dtype = a instanceof Float32Array ? 'f32' : a instanceof Int32Array ? 'i32' : a instanceof Float64Array ? 'f64' : 'u8';
    entries[name] = { dtype, offset, length: a.length };
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

/** The largest single read: Node asserts on lengths past 2³¹ − 1, so files of 2 GiB and more are read in parts. */
const READ_CHUNK = 1 << 30;

/** A file's bytes in an ArrayBuffer of its own (offset 0: array views need their alignment), read off the event loop. */
async function readWhole(path: string): Promise<ArrayBuffer> {
  const file = await open(path, 'r');
  try {
    const size = (await file.stat()).size;
    const buffer = new ArrayBuffer(size);
    for (let at = 0; at < size; ) {
      const { bytesRead } = await file.read(new Uint8Array(buffer, at, Math.min(READ_CHUNK, size - at)), 0, Math.min(READ_CHUNK, size - at), at);
      if (bytesRead === 0) throw new Error(`file shrank while reading (${at} of ${size} bytes)`);
      at += bytesRead;
    }
    return buffer;
  } finally {
    await file.close();
  }
}

/** Reads and verifies a model file's frame (magic, version, checksum, header), whatever its kind. */
export async function readModelFile(path: string, options: LoadOptions = {}): Promise<ModelFile> {
  if (typeof path !== 'string' || path.length === 0) throw new AffinityError('path must be a non-empty string', ErrorCode.BadInput);
  let buffer: ArrayBuffer;
  try {
    // stat() does not open: a FIFO or a device at the path is refused before anything could block on it.
    const info = await stat(path);
    if (!info.isFile()) throw new Error('not a regular file');
    buffer = options.mmap ?? true ? native.mapFile(path) : await readWhole(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.message;
    throw new AffinityError(`${path}: ${why}`, ErrorCode.Io, { cause: err });
  }
  const bytes = Buffer.from(buffer);
  if (bytes.length < ALIGN + 16) throw corrupt(path, `too short (${bytes.length} bytes)`);
  if (!bytes.subarray(0, 8).equals(MAGIC)) throw corrupt(path, 'wrong magic');
  const version = bytes.readUInt32LE(8);
  if (!READABLE_VERSIONS.has(version)) throw corrupt(path, `format version ${version} is not supported (this build reads ${[...READABLE_VERSIONS].join(' and ')})`);
  const trailerAt = bytes.length - 16;
  if (!bytes.subarray(trailerAt + 8).equals(END)) throw corrupt(path, 'missing end marker (truncated?)');
  // Checked on a worker thread: a model file can be hundreds of MB and servers reload them live.
  if ((await native.crc32(bytes.subarray(0, trailerAt))) >>> 0 !== bytes.readUInt32LE(trailerAt)) throw corrupt(path, 'checksum mismatch');
  const headerOffset = Number(bytes.readBigUInt64LE(16));
  const headerLength = Number(bytes.readBigUInt64LE(24));
  if (headerOffset < ALIGN || headerOffset + headerLength !== trailerAt) throw corrupt(path, 'header out of bounds');
  // The top level of the header, located without parsing it: a crafted file whose id lists are 100 MB
  // but whose arrays do not match its dimensions is refused before those lists are parsed.
  const json = bytes.subarray(headerOffset, headerOffset + headerLength);
  const parse = (text: Buffer): unknown => {
    try {
      return JSON.parse(text.toString('utf8'), (key, value) => {
        if (key === '__proto__') throw new Error('__proto__ key');
        return value;
      });
    } catch (err) {
      throw corrupt(path, (err as Error).message === '__proto__ key' ? 'header has a __proto__ key' : 'header is not JSON');
    }
  };
  const ranges = topLevelRanges(json);
  if (ranges === null) {
    const whole = parse(json); // not an object: say what it is
    throw corrupt(path, whole === null || typeof whole !== 'object' || Array.isArray(whole) ? 'header is not a JSON object' : 'header is not JSON');
  }
  if (ranges.has('__proto__')) throw corrupt(path, 'header has a __proto__ key');
  const fields: Record<string, unknown> = {};
  for (const [key, [from, to]] of ranges) if (to - from < SMALL_FIELD && key !== 'arrays') fields[key] = parse(json.subarray(from, to));
  const kind = fields.kind;
  const arraysRange = ranges.get('arrays');
  const arrays = arraysRange ? parse(json.subarray(arraysRange[0], arraysRange[1])) : undefined;
  if (typeof kind !== 'string') throw corrupt(path, 'header names no model kind');
  if (arrays === null || typeof arrays !== 'object') throw corrupt(path, 'header lists no arrays');
  delete fields.kind;
  let header: Record<string, unknown> | undefined;
  const fullHeader = () => {
    if (!header) {
      const { kind: _, arrays: __, ...rest } = parse(json) as Record<string, unknown>;
      header = rest;
    }
    return header;
  };
  await new Promise((resolve) => setImmediate(resolve)); // the checks and what the kind builds next are separate stretches of the event loop
  const entries = arrays as Record<string, ArrayEntry | undefined>;

  const view = (name: string, dtype: Dtype, length?: number) => {
    const e = Object.hasOwn(entries, name) ? entries[name] : undefined;
    if (!e || e.dtype !== dtype || !Number.isInteger(e.offset) || !Number.isInteger(e.length) || e.length < 0 || (version === 1 && dtype !== 'f32' && dtype !== 'i32'))
      throw corrupt(path, `array ${name} missing or malformed`);
    if (e.offset % ALIGN !== 0 || e.offset < ALIGN || e.offset + e.length * BYTES[dtype] > headerOffset) throw corrupt(path, `array ${name} out of bounds`);
    if (length !== undefined && e.length !== length) throw corrupt(path, `array ${name} has ${e.length} entries, expected ${length}`);
    return new VIEWS[dtype](buffer, e.offset, e.length);
  };
  const make = (prefix: string, kind: string, fields: Record<string, unknown>, header: () => Record<string, unknown>): ModelFile => {
    const meta = fields.meta;
    const own = () => Object.fromEntries(Object.entries(entries).filter(([n]) => n.startsWith(prefix) && !n.slice(prefix.length).includes('/')).map(([n, e]) => [n.slice(prefix.length), { dtype: e!.dtype, length: e!.length }]));
    const partsOf = () => {
      const p = header().parts;
      return p !== null && typeof p === 'object' && !Array.isArray(p) ? (p as Record<string, unknown>) : {};
    };
    const file: ModelFile = {
      path,
      kind,
      version,
      bytes: bytes.length,
      meta: meta !== null && typeof meta === 'object' && !Array.isArray(meta) ? (meta as Record<string, unknown>) : undefined,
      fields,
      get header() {
        return header();
      },
      arrays: own,
      partNames: () => Object.keys(partsOf()),
      part(name) {
        const p = Object.hasOwn(partsOf(), name) ? partsOf()[name] : undefined;
        if (p === null || typeof p !== 'object' || Array.isArray(p) || typeof (p as { kind?: unknown }).kind !== 'string') throw corrupt(path, `part ${name} missing or malformed`);
        const { kind: partKind, ...rest } = p as Record<string, unknown>;
        return make(`${prefix}${name}/`, partKind as string, rest, () => rest);
      },
      f32: (name, length) => view(prefix + name, 'f32', length) as Float32Array,
      i32: (name, length) => view(prefix + name, 'i32', length) as Int32Array,
      f64: (name, length) => view(prefix + name, 'f64', length) as Float64Array,
      u8: (name, length) => view(prefix + name, 'u8', length) as Uint8Array,
      async csr(name, rows, cols, options = {}) {
        const m: NativeCsr = { rows, cols, indptr: file.i32(`${name}.indptr`, rows + 1), indices: file.i32(`${name}.indices`), data: file.f32(`${name}.data`) };
        if (m.indices.length !== m.data.length || m.indptr[rows] !== m.indices.length) throw corrupt(path, `${prefix}${name} has inconsistent lengths`);
        await native.verifyCsr(m, options.sortedRows ?? false, null, null).catch((e: Error) => {
          throw corrupt(path, `${prefix}${name}: ${e.message}`);
        });
        return m;
      },
      finite: (values, what, maxAbs) =>
        native.verifyFinite(values, what, maxAbs).catch((e: Error) => {
          throw corrupt(path, e.message);
        }),
      corrupt: (why) => corrupt(path, prefix ? `${prefix.slice(0, -1)}: ${why}` : why),
    };
    return file;
  };
  return make('', kind, fields, fullHeader);
}
