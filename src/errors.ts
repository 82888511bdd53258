/** Stable error codes. They are part of the API: match on `error.code`, not on messages. */
export const ErrorCode = {
  BadInput: 'ERR_AFFINITY_BAD_INPUT',
  DimMismatch: 'ERR_AFFINITY_DIM_MISMATCH',
  UnknownId: 'ERR_AFFINITY_UNKNOWN_ID',
  Cancelled: 'ERR_AFFINITY_CANCELLED',
  OutOfMemory: 'ERR_AFFINITY_OOM',
  SimdUnavailable: 'ERR_AFFINITY_SIMD_UNAVAILABLE',
  Parse: 'ERR_AFFINITY_PARSE',
  TooLarge: 'ERR_AFFINITY_TOO_LARGE',
  NotFitted: 'ERR_AFFINITY_NOT_FITTED',
  Io: 'ERR_AFFINITY_IO',
  CorruptFile: 'ERR_AFFINITY_CORRUPT_FILE',
  Internal: 'ERR_AFFINITY_INTERNAL',
  UnknownModel: 'ERR_AFFINITY_UNKNOWN_MODEL',
  Unsupported: 'ERR_AFFINITY_UNSUPPORTED',
  Busy: 'ERR_AFFINITY_BUSY',
  NotReady: 'ERR_AFFINITY_NOT_READY',
  Unauthorized: 'ERR_AFFINITY_UNAUTHORIZED',
  AdminDisabled: 'ERR_AFFINITY_ADMIN_DISABLED',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Every failure Affinity reports, from TypeScript checks or from the native core. */
export class AffinityError extends Error {
  readonly code: ErrorCode;
  constructor(message: string, code: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AffinityError';
    this.code = code as ErrorCode;
  }
}

export function badInput(message: string): AffinityError {
  return new AffinityError(message, ErrorCode.BadInput);
}
