// The native engine as src/ sees it: the addon with our error class installed, so every error it raises is
// an AffinityError with a stable code. Everything in src/ reaches the addon through this module.
import { loadBinding, type NativeBinding } from '../../bindings/native.js';
import { AffinityError } from './errors.js';

function engine(): NativeBinding {
  let binding: NativeBinding;
  try {
    binding = loadBinding();
  } catch (err) {
    const e = err as Error & { code?: string };
    if (e.code?.startsWith('ERR_AFFINITY_')) throw new AffinityError(e.message, e.code, { cause: err });
    throw err;
  }
  binding.setErrorClass(AffinityError);
  return withCallerStacks(binding);
}

/**
 * An error from asynchronous native work is created on the JS thread after the work, so its stack shows
 * no caller. Like sharp, take the caller's stack when the call is made and give it to the error.
 */
export function adoptStack(err: unknown, site: Error): unknown {
  if (err instanceof Error && site.stack) err.stack = `${err.name}: ${err.message}\n${site.stack.slice(site.stack.indexOf('\n') + 1)}`;
  return err;
}

/** The module functions that return Promises, wrapped to reject with the caller's stack (classes are left as they are). */
function withCallerStacks(binding: NativeBinding): NativeBinding {
  const wrapped: Record<string, unknown> = { ...binding };
  for (const [name, value] of Object.entries(binding)) {
    if (typeof value !== 'function' || /^[A-Z]/.test(name)) continue;
    wrapped[name] = function (this: unknown, ...args: unknown[]) {
      const result = (value as (...a: unknown[]) => unknown).apply(this, args);
      if (!(result instanceof Promise)) return result;
      const site = new Error();
      return result.catch((err: unknown) => {
        throw adoptStack(err, site);
      });
    };
  }
  return wrapped as unknown as NativeBinding;
}

export const native: NativeBinding = engine();
export type * from '../../bindings/native.js';
