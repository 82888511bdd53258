// Atomic file writes: a crash or a full disk never leaves a half-written file under the final name.
import { open, rename, unlink } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { AffinityError, ErrorCode } from '../core/errors.js';

export async function writeFileAtomic(path: string, chunks: Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
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
  } catch (err) {
    await handle?.close().catch(() => {});
    await unlink(temp).catch(() => {});
    throw new AffinityError(`cannot write ${path}: ${(err as Error).message}`, ErrorCode.Io, { cause: err });
  }
}
