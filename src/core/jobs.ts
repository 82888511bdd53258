// Plumbing shared by every asynchronous native call: AbortSignal to a native cancel flag, progress.
import { AffinityError, ErrorCode, badInput } from './errors.js';
import { adoptStack } from './native.js';

export interface JobOptions {
  /** Cancels the work; the Promise rejects with an AffinityError (code ERR_AFFINITY_CANCELLED, cause = signal.reason). */
  signal?: AbortSignal;
  /** Called on the JS thread with the finished fraction in [0, 1], at most every 50 ms. */
  onProgress?: (fraction: number) => void;
}

export async function runJob<T>(
  options: JobOptions | undefined,
  start: (cancel: Int32Array, onProgress: ((fraction: number) => void) | null) => Promise<T>,
): Promise<T> {
  const signal = options?.signal;
  const onProgress = options?.onProgress;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw badInput('signal must be an AbortSignal');
  if (onProgress !== undefined && typeof onProgress !== 'function') throw badInput('onProgress must be a function');
  if (signal?.aborted) throw cancelled(signal);
  const site = new Error(); // the caller's stack, for errors that come back from the worker
  const cancel = new Int32Array(1);
  const abort = () => Atomics.store(cancel, 0, 1);
  signal?.addEventListener('abort', abort, { once: true });
  try {
    return await start(cancel, onProgress ?? null);
  } catch (err) {
    if (err instanceof AffinityError && err.code === ErrorCode.Cancelled && signal?.aborted) throw adoptStack(cancelled(signal), site);
    throw adoptStack(err, site);
  } finally {
    signal?.removeEventListener('abort', abort);
  }
}

function cancelled(signal: AbortSignal): AffinityError {
  return new AffinityError('the operation was cancelled', ErrorCode.Cancelled, { cause: signal.reason });
}
