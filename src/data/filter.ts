// Attribute filters over the catalogue: { category: { in: ['tea'] }, price: { lte: 20 }, inStock: true }.
// A filter is evaluated once over the catalogue; each model it is used with gets a bit per item (its item
// order), cached, which the native scans test while they rank: k results whenever k items qualify.
import { AffinityError, ErrorCode, badInput } from '../core/errors.js';
import type { IdMap } from './ids.js';

/** One catalogue column: numbers (NaN where missing), booleans, strings, or lists of strings (categories). */
export type Column =
  | { type: 'number'; values: Float64Array }
  | { type: 'boolean'; values: (boolean | null)[] }
  | { type: 'string'; values: (string | null)[] }
  | { type: 'strings'; values: string[][] };

/** What a filter needs of a catalogue (Catalog in catalog.ts). */
export interface FilterableCatalog {
  readonly size: number;
  readonly attributes: string[];
  column(attribute: string): Column | undefined;
  alignTo(items: IdMap): { rows: Int32Array; missing: number };
}

export function unknownAttribute(name: string, known: string[]): AffinityError {
  return new AffinityError(`unknown catalogue attribute ${JSON.stringify(name)} (the catalogue has ${known.join(', ') || 'no attributes'})`, ErrorCode.UnknownAttribute);
}

export type Literal = string | number | boolean;

/** Conditions on one attribute; all given ones must hold. On a list attribute (categories), `eq`/`in` match when any entry does. */
export interface Condition {
  eq?: Literal;
  in?: Literal[];
  /** Matches items whose value is none of these, missing values included. */
  notIn?: Literal[];
  lt?: number;
  lte?: number;
  gt?: number;
  gte?: number;
}

/** Attribute -> a condition, a literal (eq) or a list of literals (in). Every attribute's condition must hold. */
export type FilterSpec = Record<string, Condition | Literal | Literal[]>;

const OPERATORS = new Set(['eq', 'in', 'notIn', 'lt', 'lte', 'gt', 'gte']);
const RANGE = ['lt', 'lte', 'gt', 'gte'] as const;
/** Caps on a filter's size, so a hostile request cannot make evaluation expensive. */
export const FILTER_LIMITS = { attributes: 32, values: 1000 } as const;

export class ItemFilter {
  private readonly masks = new WeakMap<IdMap, Uint32Array>();

  constructor(
    readonly catalog: FilterableCatalog,
    /** 1 for each catalogue row that passes. */
    readonly matches: Uint8Array,
    /** Rows that pass. */
    readonly count: number,
  ) {}

  /** A bit per item of a model (bit i of word i >> 5): set where the catalogue has the item and it passes. */
  maskFor(items: IdMap): Uint32Array {
    let mask = this.masks.get(items);
    if (!mask) {
      const { rows } = this.catalog.alignTo(items);
      mask = new Uint32Array((rows.length + 31) >>> 5);
      for (let i = 0; i < rows.length; i++) if (rows[i] >= 0 && this.matches[rows[i]]) mask[i >>> 5] |= 1 << (i & 31);
      this.masks.set(items, mask);
    }
    return mask;
  }
}

/** True when bit `i` of a mask is set. */
export function maskHas(mask: Uint32Array, i: number): boolean {
  return ((mask[i >>> 5] >>> (i & 31)) & 1) === 1;
}

export function compileFilter(catalog: FilterableCatalog, spec: FilterSpec): ItemFilter {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) throw badInput('filter must be an object of attribute conditions');
  const entries = Object.entries(spec);
  if (entries.length > FILTER_LIMITS.attributes) throw badInput(`a filter names at most ${FILTER_LIMITS.attributes} attributes`);
  const tests = entries.map(([attribute, raw]) => {
    const column = catalog.column(attribute);
    if (!column) throw unknownAttribute(attribute, catalog.attributes);
    return rowTest(attribute, column, conditionOf(attribute, raw));
  });
  const matches = new Uint8Array(catalog.size);
  let count = 0;
  for (let r = 0; r < matches.length; r++)
    if (tests.every((t) => t(r))) {
      matches[r] = 1;
      count++;
    }
  return new ItemFilter(catalog, matches, count);
}

function conditionOf(attribute: string, raw: unknown): Condition {
  if (Array.isArray(raw)) return { in: raw as Literal[] };
  if (raw === null || typeof raw !== 'object') return { eq: raw as Literal };
  for (const op of Object.keys(raw)) if (!OPERATORS.has(op)) throw badInput(`filter.${attribute}: unknown operator ${JSON.stringify(op)} (use ${[...OPERATORS].join(', ')})`);
  if (Object.keys(raw).length === 0) throw badInput(`filter.${attribute}: an empty condition`);
  return raw as Condition;
}

function literal(attribute: string, v: unknown, type: Column['type']): Literal {
  const want = type === 'strings' ? 'string' : type;
  if (typeof v !== want || (typeof v === 'number' && !Number.isFinite(v)))
    throw new AffinityError(`filter.${attribute}: ${JSON.stringify(v)} is not a ${want} (the attribute holds ${type === 'strings' ? 'lists of strings' : `${type}s`})`, ErrorCode.BadInput);
  return v as Literal;
}

function list(attribute: string, op: string, v: unknown, type: Column['type']): Set<Literal> {
  if (!Array.isArray(v)) throw badInput(`filter.${attribute}.${op} must be a list`);
  if (v.length > FILTER_LIMITS.values) throw badInput(`filter.${attribute}.${op} holds at most ${FILTER_LIMITS.values} values`);
  return new Set(v.map((x) => literal(attribute, x, type)));
}

/** A predicate over catalogue rows for one attribute's condition. */
function rowTest(attribute: string, column: Column, c: Condition): (row: number) => boolean {
  const checks: ((value: unknown) => boolean)[] = [];
  const eq = c.eq !== undefined ? literal(attribute, c.eq, column.type) : undefined;
  const inSet = c.in !== undefined ? list(attribute, 'in', c.in, column.type) : undefined;
  const notIn = c.notIn !== undefined ? list(attribute, 'notIn', c.notIn, column.type) : undefined;
  const bounds = RANGE.filter((op) => c[op] !== undefined);
  if (bounds.length > 0 && column.type !== 'number') throw badInput(`filter.${attribute}: ${bounds.join(', ')} need a numeric attribute`);
  const range = bounds.map((op) => [op, literal(attribute, c[op], 'number') as number] as const);
  if (column.type === 'strings') {
    const values = column.values;
    return (row) => {
      const v = values[row];
      return (eq === undefined || v.includes(eq as string)) && (inSet === undefined || v.some((x) => inSet.has(x))) && (notIn === undefined || !v.some((x) => notIn.has(x)));
    };
  }
  if (eq !== undefined) checks.push((v) => v === eq);
  if (inSet) checks.push((v) => inSet.has(v as Literal));
  for (const [op, x] of range)
    checks.push(op === 'lt' ? (v) => (v as number) < x : op === 'lte' ? (v) => (v as number) <= x : op === 'gt' ? (v) => (v as number) > x : (v) => (v as number) >= x);
  const values = column.values as ArrayLike<unknown>;
  const missing = (v: unknown) => v === null || (typeof v === 'number' && Number.isNaN(v));
  return (row) => {
    const v = values[row];
    if (notIn && !missing(v) && notIn.has(v as Literal)) return false;
    if (missing(v)) return checks.length === 0; // a missing value passes notIn alone
    return checks.every((check) => check(v));
  };
}
