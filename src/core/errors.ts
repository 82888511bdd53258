// Every error Affinity reports, in one table: its stable code and the HTTP status the server answers with
// (as fastify's lib/errors.js keeps code, message and status in one createError entry). The native core
// throws codes from the same list (native/core/error.h; test/errors.test.ts checks the two agree).

/** Each error kind: its code (part of the API: match on `error.code`, not on messages) and HTTP status. */
export const ERRORS = {
  BadInput: { code: 'ERR_AFFINITY_BAD_INPUT', status: 422 },
  DimMismatch: { code: 'ERR_AFFINITY_DIM_MISMATCH', status: 422 },
  UnknownId: { code: 'ERR_AFFINITY_UNKNOWN_ID', status: 404 },
  Conflict: { code: 'ERR_AFFINITY_CONFLICT', status: 409 },
  Cancelled: { code: 'ERR_AFFINITY_CANCELLED', status: 503 },
  OutOfMemory: { code: 'ERR_AFFINITY_OOM', status: 503 },
  SimdUnavailable: { code: 'ERR_AFFINITY_SIMD_UNAVAILABLE', status: 500 },
  Parse: { code: 'ERR_AFFINITY_PARSE', status: 422 },
  TooLarge: { code: 'ERR_AFFINITY_TOO_LARGE', status: 413 },
  NotFitted: { code: 'ERR_AFFINITY_NOT_FITTED', status: 503 },
  Io: { code: 'ERR_AFFINITY_IO', status: 422 },
  CorruptFile: { code: 'ERR_AFFINITY_CORRUPT_FILE', status: 422 },
  Internal: { code: 'ERR_AFFINITY_INTERNAL', status: 500 },
  UnknownModel: { code: 'ERR_AFFINITY_UNKNOWN_MODEL', status: 404 },
  UnknownAttribute: { code: 'ERR_AFFINITY_UNKNOWN_ATTRIBUTE', status: 400 },
  Unsupported: { code: 'ERR_AFFINITY_UNSUPPORTED', status: 422 },
  Busy: { code: 'ERR_AFFINITY_BUSY', status: 503 },
  NotReady: { code: 'ERR_AFFINITY_NOT_READY', status: 503 },
  Unauthorized: { code: 'ERR_AFFINITY_UNAUTHORIZED', status: 401 },
  AdminDisabled: { code: 'ERR_AFFINITY_ADMIN_DISABLED', status: 403 },
} as const;

type Errors = typeof ERRORS;

/** Stable error codes by name: `ErrorCode.BadInput === 'ERR_AFFINITY_BAD_INPUT'`. */
export const ErrorCode = Object.fromEntries(Object.entries(ERRORS).map(([name, e]) => [name, e.code])) as { readonly [K in keyof Errors]: Errors[K]['code'] };
export type ErrorCode = Errors[keyof Errors]['code'];

const STATUS = new Map<string, number>(Object.values(ERRORS).map((e) => [e.code, e.status]));

/** The HTTP status of an error code (500 for codes that are not ours). */
export function httpStatusOf(code: string): number {
  return STATUS.get(code) ?? 500;
}

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
