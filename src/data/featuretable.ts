// Tables of customer features as marketing exports look: numeric, yes/no and text columns with gaps. A
// FeatureSchema (column kinds and category codes) is saved with every model trained on a table, so serving
// encodes rows exactly as training did.
import { AffinityError, ErrorCode, badInput } from '../core/errors.js';
import { Random } from '../core/random.js';
import { parseCsv, sniffDelimiter } from '../io/csv.js';
import { readTextFile } from '../io/files.js';
import type { Matrix } from './matrix.js';

export type ColumnKind = 'numeric' | 'boolean' | 'categorical';

/** One feature column as a model sees it. Category i is encoded as the number i. */
export interface FeatureColumn {
  name: string;
  kind: ColumnKind;
  categories?: string[];
}

/** The feature columns of a model, in the order of its feature matrix. */
export interface FeatureSchema {
  features: FeatureColumn[];
}

/** The most categories a column keeps (by frequency); rarer ones are encoded as missing. */
export const MAX_CATEGORIES = 254;

export type Cell = string | number | boolean | null | undefined;

export interface FeatureTableOptions {
  /** Keep only these columns (default: all). */
  columns?: string[];
  /** Columns read as categories even when every value is a number (codes, zip codes). */
  categorical?: string[];
  /** Columns kept in the table but never used as features (other outcomes, free text). */
  exclude?: string[];
  /** The outcome column: kept, never a feature. */
  target?: string;
  /** The treatment (campaign arm) column: kept, never a feature. */
  treatment?: string;
  /** The customer id column: kept, never a feature. */
  id?: string;
  /** CSV field delimiter (default: sniffed from the header line). */
  delimiter?: string;
}

const MISSING = new Set(['', 'na', 'n/a', 'nan', 'null', '?']);
const TRUE = new Set(['true', 'yes', 'y', 't']);
const FALSE = new Set(['false', 'no', 'n', 'f']);

function isMissing(v: Cell): boolean {
  return v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v)) || (typeof v === 'string' && MISSING.has(v.trim().toLowerCase()));
}

function numberOf(v: Cell): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  const s = String(v).trim();
  return s === '' ? NaN : Number(s);
}

function booleanOf(v: Cell): number {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return v === 1 ? 1 : v === 0 ? 0 : NaN;
  const s = String(v).trim().toLowerCase();
  return TRUE.has(s) || s === '1' ? 1 : FALSE.has(s) || s === '0' ? 0 : NaN;
}

function kindOf(values: readonly Cell[]): ColumnKind {
  let numeric = true;
  let boolean = true;
  for (const v of values) {
    if (isMissing(v)) continue;
    if (typeof v === 'boolean') {
      numeric = false;
      continue;
    }
    if (numeric && !Number.isFinite(numberOf(v))) numeric = false;
    if (boolean && (typeof v === 'number' || !Number.isNaN(Number(v)) || Number.isNaN(booleanOf(v)))) boolean = false;
    if (!numeric && !boolean) return 'categorical';
  }
  return numeric ? 'numeric' : boolean ? 'boolean' : 'categorical';
}

/** Category codes by descending frequency (ties in string order), at most MAX_CATEGORIES. */
function categoriesOf(values: readonly Cell[]): string[] {
  const counts = new Map<string, number>();
  for (const v of values) if (!isMissing(v)) counts.set(String(v), (counts.get(String(v)) ?? 0) + 1);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, MAX_CATEGORIES)
    .map(([c]) => c);
}

/** Encodes one cell for a column: NaN for missing, unparsable and unknown categories. */
export function encodeCell(column: FeatureColumn, v: Cell, codes?: Map<string, number>): number {
  if (isMissing(v)) return NaN;
  if (column.kind === 'numeric') {
    const x = numberOf(v);
    return Number.isFinite(x) ? x : NaN;
  }
  if (column.kind === 'boolean') return booleanOf(v);
  return (codes ?? codeMap(column)).get(String(v)) ?? NaN;
}

function codeMap(column: FeatureColumn): Map<string, number> {
  return new Map((column.categories ?? []).map((c, i) => [c, i]));
}

/** Checks a schema read from a file or a request. */
export function checkSchema(schema: unknown): FeatureSchema {
  const s = schema as FeatureSchema;
  if (s === null || typeof s !== 'object' || !Array.isArray(s.features)) throw badInput('a feature schema needs { features: [...] }');
  const names = new Set<string>();
  for (const c of s.features) {
    if (c === null || typeof c !== 'object' || typeof c.name !== 'string' || !['numeric', 'boolean', 'categorical'].includes(c.kind)) throw badInput('a schema column needs a name and a kind');
    if (names.has(c.name)) throw badInput(`the schema names column ${c.name} twice`);
    names.add(c.name);
    if (c.kind === 'categorical' && (!Array.isArray(c.categories) || c.categories.length > MAX_CATEGORIES || !c.categories.every((x) => typeof x === 'string')))
      throw badInput(`categorical column ${c.name} needs at most ${MAX_CATEGORIES} string categories`);
  }
  return s;
}

/** Rows given as objects (a request body, a database row) encoded for a schema: unknown keys are ignored, absent ones are missing. */
export function encodeRecords(schema: FeatureSchema, records: readonly Record<string, Cell>[]): Matrix {
  const dims = schema.features.length;
  const values = new Float32Array(records.length * dims);
  const codes = schema.features.map((c) => (c.kind === 'categorical' ? codeMap(c) : undefined));
  records.forEach((record, r) => {
    if (record === null || typeof record !== 'object' || Array.isArray(record)) throw badInput(`row ${r} must be an object of column values`);
    schema.features.forEach((c, d) => {
      const v = Object.hasOwn(record, c.name) ? record[c.name] : undefined;
      if (v !== null && v !== undefined && typeof v === 'object') throw badInput(`row ${r}: ${c.name} must be a number, string or boolean`);
      values[r * dims + d] = encodeCell(c, v, codes[d]);
    });
  });
  return { values, rows: records.length, dims };
}

/**
 * Columns of equal length with a kind each, and the roles of the columns that are not features.
 *
 * ```ts
 * const table = await FeatureTable.fromFile('hillstrom.csv', { target: 'visit', treatment: 'segment', exclude: ['conversion', 'spend'] });
 * const forest = await new RandomForest().fit(table, 'visit');
 * ```
 */
export class FeatureTable {
  readonly rows: number;
  /** Every column, in file order. */
  readonly names: readonly string[];
  readonly target?: string;
  readonly treatment?: string;
  readonly id?: string;
  /** The feature columns (every column but the excluded, target, treatment and id ones) with their kinds and categories. */
  readonly schema: FeatureSchema;
  private readonly cells: ReadonlyMap<string, readonly Cell[]>;

  private constructor(cells: Map<string, readonly Cell[]>, rows: number, options: FeatureTableOptions, schema?: FeatureSchema) {
    this.cells = cells;
    this.rows = rows;
    this.names = [...cells.keys()];
    const roles = [options.target, options.treatment, options.id].filter((r): r is string => r !== undefined);
    for (const name of [...roles, ...(options.exclude ?? []), ...(options.categorical ?? [])])
      if (!cells.has(name)) throw badInput(`no column ${JSON.stringify(name)} (the table has ${this.names.join(', ')})`);
    this.target = options.target;
    this.treatment = options.treatment;
    this.id = options.id;
    const never = new Set([...roles, ...(options.exclude ?? [])]);
    const forced = new Set(options.categorical ?? []);
    this.schema = schema ?? {
      features: this.names
        .filter((n) => !never.has(n))
        .map((name) => {
          const values = cells.get(name)!;
          const kind = forced.has(name) ? 'categorical' : kindOf(values);
          return kind === 'categorical' ? { name, kind, categories: categoriesOf(values) } : { name, kind };
        }),
    };
  }

  /** Reads a CSV (plain or gzip) with a header line. */
  static async fromFile(path: string, options: FeatureTableOptions = {}): Promise<FeatureTable> {
    const text = await readTextFile(path);
    const rows = parseCsv(text, options.delimiter ?? sniffDelimiter(text), path);
    const header = rows.next();
    if (header.done) throw badInput(`${path} is empty`);
    const names = header.value.fields.map((f) => f.trim());
    if (new Set(names).size !== names.length) throw badInput(`${path}: the header names a column twice`);
    const keep = options.columns ?? names;
    for (const c of keep) if (!names.includes(c)) throw badInput(`${path} has no column ${JSON.stringify(c)} (it has ${names.join(', ')})`);
    const columns = keep.map((c) => ({ name: c, at: names.indexOf(c), values: [] as string[] }));
    for (const row of rows) {
      if (row.fields.length !== names.length) throw new AffinityError(`${path}:${row.line}: ${row.fields.length} fields, the header has ${names.length}`, ErrorCode.Parse);
      for (const c of columns) c.values.push(row.fields[c.at]);
    }
    return FeatureTable.fromColumns(Object.fromEntries(columns.map((c) => [c.name, c.values])), options);
  }

  /** From objects, one per row (the keys of the first row name the columns unless options.columns does). */
  static fromRecords(records: readonly Record<string, Cell>[], options: FeatureTableOptions = {}): FeatureTable {
    if (!Array.isArray(records)) throw badInput('records must be an array of objects');
    const names = options.columns ?? Object.keys(records[0] ?? {});
    return FeatureTable.fromColumns(Object.fromEntries(names.map((n) => [n, records.map((r) => r?.[n])])), options);
  }

  /** From arrays of equal length, one per column. */
  static fromColumns(columns: Record<string, ArrayLike<Cell>>, options: FeatureTableOptions = {}): FeatureTable {
    const entries = Object.entries(columns).filter(([n]) => options.columns === undefined || options.columns.includes(n));
    if (entries.length === 0) throw badInput('a feature table needs at least one column');
    const rows = entries[0][1].length;
    const cells = new Map<string, readonly Cell[]>();
    for (const [name, values] of entries) {
      if (values === null || typeof values !== 'object' || values.length !== rows) throw new AffinityError(`column ${name} has ${values?.length} values, ${entries[0][0]} ${rows}`, ErrorCode.DimMismatch);
      cells.set(name, Array.from(values));
    }
    return new FeatureTable(cells, rows, options);
  }

  /** The names of the feature columns. */
  get features(): string[] {
    return this.schema.features.map((c) => c.name);
  }

  /** The feature matrix for a schema (default: this table's own): NaN where a value is missing or a category unknown. */
  encode(schema: FeatureSchema = this.schema): Matrix {
    const dims = schema.features.length;
    const values = new Float32Array(this.rows * dims);
    schema.features.forEach((c, d) => {
      const cells = this.cells.get(c.name);
      if (!cells) throw badInput(`the table has no column ${c.name}, which the model was trained on`);
      const codes = c.kind === 'categorical' ? codeMap(c) : undefined;
      for (let r = 0; r < this.rows; r++) values[r * dims + d] = encodeCell(c, cells[r], codes);
    });
    return { values, rows: this.rows, dims };
  }

  /** A column as numbers (yes/no as 1/0; NaN where missing or not a number). */
  numbers(name: string): Float64Array {
    const cells = this.column(name);
    const kind = kindOf(cells);
    return Float64Array.from(cells, (v) => (isMissing(v) ? NaN : kind === 'boolean' ? booleanOf(v) : numberOf(v)));
  }

  /** The kind a column's values read as. */
  kindOf(name: string): ColumnKind {
    return this.schema.features.find((c) => c.name === name)?.kind ?? kindOf(this.column(name));
  }

  /** A column as numbers when its values are numbers or yes/no, else as text: labels and outcomes. */
  values(name: string): (number | string | null)[] {
    return this.kindOf(name) === 'categorical' ? this.labels(name) : Array.from(this.numbers(name), (v) => (Number.isNaN(v) ? null : v));
  }

  /** A column as text (null where missing). */
  labels(name: string): (string | null)[] {
    return this.column(name).map((v) => (isMissing(v) ? null : String(v)));
  }

  /** The raw cells of a column. */
  column(name: string): readonly Cell[] {
    const cells = this.cells.get(name);
    if (!cells) throw badInput(`no column ${JSON.stringify(name)} (the table has ${this.names.join(', ')})`);
    return cells;
  }

  /** The given rows (in that order), with this table's schema. */
  select(rows: ArrayLike<number>): FeatureTable {
    const cells = new Map<string, readonly Cell[]>();
    for (const [name, values] of this.cells)
      cells.set(
        name,
        Array.from(rows, (r) => {
          if (!Number.isInteger(r) || r < 0 || r >= this.rows) throw badInput(`row ${r} is outside the table's ${this.rows} rows`);
          return values[r];
        }),
      );
    return new FeatureTable(cells, rows.length, { target: this.target, treatment: this.treatment, id: this.id }, this.schema);
  }

  /** A seeded random split: the first table holds round(fraction * rows) rows. */
  split(fraction: number, seed = 42): [FeatureTable, FeatureTable] {
    if (!(fraction > 0 && fraction < 1)) throw badInput('fraction must be in (0, 1)');
    const order = Array.from({ length: this.rows }, (_, i) => i);
    const random = new Random(seed);
    for (let i = order.length - 1; i > 0; i--) {
      const j = random.int(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    const cut = Math.round(fraction * this.rows);
    return [this.select(order.slice(0, cut).sort((a, b) => a - b)), this.select(order.slice(cut).sort((a, b) => a - b))];
  }
}
