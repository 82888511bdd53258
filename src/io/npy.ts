// NumPy .npy (format 1.0-3.0) for 1-D arrays: enough to exchange CSR matrices with SciPy and implicit.
import { readFile } from 'node:fs/promises';
import { AffinityError, ErrorCode } from '../core/errors.js';
import { writeFileAtomic } from './files.js';

export type NpyArray = Int32Array | Float32Array | Float64Array | BigInt64Array | Uint32Array | Uint8Array;

const DTYPES: Record<string, { bytes: number; make: (buf: ArrayBuffer) => NpyArray }> = {
  i4: { bytes: 4, make: (b) => new Int32Array(b) },
  u4: { bytes: 4, make: (b) => new Uint32Array(b) },
  i8: { bytes: 8, make: (b) => new BigInt64Array(b) },
  f4: { bytes: 4, make: (b) => new Float32Array(b) },
  f8: { bytes: 8, make: (b) => new Float64Array(b) },
  u1: { bytes: 1, make: (b) => new Uint8Array(b) },
  b1: { bytes: 1, make: (b) => new Uint8Array(b) },
};

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

function bad(path: string, why: string): AffinityError {
  return new AffinityError(`${path}: not a supported .npy file: ${why}`, ErrorCode.Parse);
}

/** Parses a .npy buffer holding a 1-D little-endian array of int32/uint32/int64/float32/float64/uint8. */
export function parseNpy(bytes: Buffer, path = '<buffer>'): NpyArray {
  if (bytes.length < 10 || !bytes.subarray(0, 6).equals(MAGIC)) throw bad(path, 'missing the \\x93NUMPY magic');
  const major = bytes[6];
  if (major < 1 || major > 3) throw bad(path, `format version ${major} is unknown`);
  const headerLen = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  if (start + headerLen > bytes.length) throw bad(path, 'truncated header');
  const header = bytes.subarray(start, start + headerLen).toString('latin1');
  const descr = /'descr'\s*:\s*'([<>|=])([a-z]\d+)'/.exec(header);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shape) throw bad(path, 'header lacks descr, fortran_order or shape');
  if (descr[1] === '>') throw bad(path, 'big-endian data is not supported');
  const dtype = DTYPES[descr[2]];
  if (!dtype) throw bad(path, `dtype ${descr[2]} is not supported (use int32, int64, float32 or float64)`);
  const dims = shape[1].split(',').map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  if (dims.length !== 1 || !Number.isSafeInteger(dims[0]) || dims[0] < 0) throw bad(path, `shape (${shape[1]}) is not 1-D`);
  const count = dims[0];
  const dataStart = start + headerLen;
  const byteLength = count * dtype.bytes;
  if (bytes.length - dataStart !== byteLength)
    throw bad(path, `expected ${byteLength} bytes of data for ${count} elements, found ${bytes.length - dataStart}`);
  // Copy into a fresh buffer: the data offset need not be aligned for the element type.
  const copy = new ArrayBuffer(byteLength);
  new Uint8Array(copy).set(bytes.subarray(dataStart));
  return dtype.make(copy);
}

export async function readNpy(path: string): Promise<NpyArray> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new AffinityError(`${path}: ${(err as Error).message}`, ErrorCode.Io, { cause: err });
  }
  return parseNpy(bytes, path);
}

function descrOf(a: NpyArray): string {
  if (a instanceof Int32Array) return '<i4';
  if (a instanceof Uint32Array) return '<u4';
  if (a instanceof BigInt64Array) return '<i8';
  if (a instanceof Float32Array) return '<f4';
  if (a instanceof Float64Array) return '<f8';
  return '|u1';
}

export function encodeNpy(a: NpyArray): Buffer {
  let header = `{'descr': '${descrOf(a)}', 'fortran_order': False, 'shape': (${a.length},), }`;
  // Pad so that the data starts on a 64-byte boundary, as NumPy does.
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const prefix = Buffer.alloc(10);
  MAGIC.copy(prefix, 0);
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  return Buffer.concat([prefix, Buffer.from(header, 'latin1'), Buffer.from(a.buffer, a.byteOffset, a.byteLength)]);
}

export async function writeNpy(path: string, a: NpyArray): Promise<void> {
  await writeFileAtomic(path, encodeNpy(a));
}

/** Converts an index array read from .npy to Int32Array, checking that every value fits. */
export function toInt32(a: NpyArray, what: string): Int32Array {
  if (a instanceof Int32Array) return a;
  const out = new Int32Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const v = Number(a[i]);
    if (!Number.isInteger(v)) throw new AffinityError(`${what}[${i}] = ${v} is not an integer`, ErrorCode.BadInput);
    if (v > 0x7fffffff || v < -0x80000000) throw new AffinityError(`${what}[${i}] = ${v} does not fit in int32`, ErrorCode.TooLarge);
    out[i] = v;
  }
  return out;
}

export function toFloat32(a: NpyArray, what: string): Float32Array {
  if (a instanceof Float32Array) return a;
  if (a instanceof BigInt64Array) return Float32Array.from(a, (v) => Number(v));
  const out = Float32Array.from(a as ArrayLike<number>);
  for (let i = 0; i < out.length; i++)
    if (!Number.isFinite(out[i])) throw new AffinityError(`${what}[${i}] is not a finite float32`, ErrorCode.BadInput);
  return out;
}
