// Atomic file writes: a crash or a full disk never leaves a half-written file under the final name; and
// the one reader of small text exports (catalogues, purchase lines).
import { open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { promisify } from 'node:util';
import { createGunzip, gunzip } from 'node:zlib';
import { createReadStream } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { AffinityError, ErrorCode } from '../core/errors.js';

/** The temporary name a write goes to before its rename: `.NAME.<12 hex>.tmp` beside the target. */
function tempName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
}

function isTempOf(path: string, candidate: string): boolean {
  const prefix = `.${basename(path)}.`;
  return candidate.startsWith(prefix) && /^[0-9a-f]{12}\.tmp$/.test(candidate.slice(prefix.length));
}

/** Temporary files of writes that never finished (the process was killed) older than this are removed. */
const STALE_MS = 10 * 60 * 1000;

/**
 * Removes what killed writes of `path` left behind: its temporary files older than ten minutes (a younger
 * one may belong to a write in progress in another process). Errors are ignored: this is housekeeping.
 */
export async function removeStaleTemps(path: string, now = Date.now()): Promise<number> {
  let removed = 0;
  const dir = dirname(path);
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    if (!isTempOf(path, name)) continue;
    const full = join(dir, name);
    const info = await stat(full).catch(() => null);
    if (info?.isFile() && now - info.mtimeMs > STALE_MS && (await unlink(full).then(() => true, () => false))) removed++;
  }
  return removed;
}

/** Makes a rename durable: the directory entry is on disk once this returns (where the OS allows opening directories). */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => null); // Windows cannot open directories
  if (!handle) return;
  try {
    await handle.sync().catch(() => {});
  } finally {
    await handle.close();
  }
}

export async function writeFileAtomic(path: string, chunks: Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<void> {
  const temp = tempName(path);
  let handle;
  try {
    handle = await open(temp, 'wx');
    if (chunks instanceof Uint8Array) {
      await handle.write(chunks);
    } else {
      for await (const chunk of chunks as AsyncIterable<Uint8Array>) await handle.write(chunk);
    }
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temp, path);
    await syncDirectory(dirname(path));
  } catch (err) {
    await handle?.close().catch(() => {});
    await unlink(temp).catch(() => {});
    throw new AffinityError(`cannot write ${path}: ${(err as Error).message}`, ErrorCode.Io, { cause: err });
  }
  await removeStaleTemps(path);
}

/**
 * A whole text file as UTF-8, gunzipped when it is gzip (by its magic bytes, whatever its name). A path
 * that is missing, unreadable or not a regular file is ERR_AFFINITY_IO naming it.
 */
export async function readTextFile(path: string): Promise<string> {
  try {
    if (!(await stat(path)).isFile()) throw new Error('not a regular file');
    let bytes = await readFile(path);
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = await promisify(gunzip)(bytes);
    return bytes.toString('utf8');
  } catch (err) {
    throw new AffinityError(`${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`, ErrorCode.Io, { cause: err });
  }
}

/** The first line of a text file (gzip by magic bytes), read from its first 64 KiB; '' for an empty file. */
export async function readFirstLine(path: string): Promise<string> {
  const head = await open(path, 'r').then(async (f) => {
    try {
      const buffer = Buffer.alloc(2);
      await f.read(buffer, 0, 2, 0);
      return buffer;
    } finally {
      await f.close();
    }
  });
  let stream: NodeJS.ReadableStream = createReadStream(path, { end: 65535 });
  if (head[0] === 0x1f && head[1] === 0x8b) stream = stream.pipe(createGunzip());
  let text = '';
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      text += chunk.toString('utf8');
      if (text.includes('\n') || text.length >= 65536) break;
    }
  } catch (err) {
    // A gzip stream cut at 64 KiB ends early; what was decoded up to there is enough for one line.
    if ((err as NodeJS.ErrnoException).code !== 'Z_BUF_ERROR' || text === '') throw err;
  } finally {
    (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
  }
  return text.split(/\r?\n/, 1)[0] ?? '';
}
