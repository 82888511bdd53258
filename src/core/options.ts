// Validation of option values: one rule per type, the same message everywhere, ERR_AFFINITY_BAD_INPUT.
import { badInput } from './errors.js';

/** Validates an integer option. */
export function intOption(value: unknown, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw badInput(`${name} must be an integer in [${min}, ${max}], got ${String(value)}`);
  return value;
}

/** Validates a finite number option. */
export function numberOption(value: unknown, name: string, fallback: number, min = -Infinity): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min)
    throw badInput(`${name} must be a finite number${min > -Infinity ? ` >= ${min}` : ''}, got ${String(value)}`);
  return value;
}

export function oneOf<T extends string>(value: unknown, name: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !allowed.includes(value as T))
    throw badInput(`${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(value)}`);
  return value as T;
}

export function boolOption(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw badInput(`${name} must be a boolean`);
  return value;
}
