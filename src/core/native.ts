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
  return binding;
}

export const native: NativeBinding = engine();
export type * from '../../bindings/native.js';
