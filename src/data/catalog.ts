// The product catalogue: names, categories, prices, stock and any other attributes of the items, joined
// into answers and filtered on inside the scans (see filter.ts).
import { extname } from 'node:path';
import { AffinityError, ErrorCode, badInput } from '../core/errors.js';
import { parseCsv, sniffDelimiter } from '../io/csv.js';
import { readTextFile } from '../io/files.js';
import { checkId, idProblem, IdMap, resolveId, type Id } from './ids.js';
import { compileFilter, unknownAttribute, type Column, type FilterSpec, type ItemFilter } from './filter.js';

/** A scalar attribute value; missing values are null. Categories are lists of strings. */
export type AttributeValue = string | number | boolean | null;

/** Some attributes of one product, by name. */
export type Attributes = Record<string, AttributeValue | string[]>;


/** Arrays of equal length, one entry per product. `category` entries may be lists (several categories). */
export interface CatalogInput {
  id: readonly Id[];
  name?: readonly (string | null)[];
  category?: readonly (string | readonly string[] | null)[];
  price?: readonly (number | null)[];
  /** In stock or not; derived from `stock > 0` when only stock counts are given. */
  inStock?: readonly (boolean | null)[];
  stock?: readonly (number | null)[];
  [attribute: string]: readonly unknown[] | undefined;
}

/** Where the standard attributes are in a file, when its columns are named differently. */
export interface CatalogColumns {
  id?: string;
  name?: string;
  category?: string;
  price?: string;
  inStock?: string;
  stock?: string;
}

export interface CatalogFileOptions {
  /** 'csv', 'json' (an array of objects) or 'jsonl' (one object a line); default: from the extension. */
  format?: 'csv' | 'json' | 'jsonl';
  columns?: CatalogColumns;
  /** CSV delimiter (default: sniffed from the header among , ; tab |). */
  delimiter?: string;
  /** Separator of several categories in one CSV cell (default '|'). */
  categorySeparator?: string;
}

const STANDARD = ['name', 'category', 'price', 'inStock', 'stock'] as const;
const TRUE = new Set(['true', '1', 'yes', 'y']);
const FALSE = new Set(['false', '0', 'no', 'n']);

export class Catalog {
  readonly items: IdMap;
  private readonly columns: ReadonlyMap<string, Column>;
  private readonly filters = new Map<string, ItemFilter>();
  private readonly alignments = new WeakMap<IdMap, { rows: Int32Array; missing: number }>();

  private constructor(items: IdMap, columns: Map<string, Column>) {
    this.items = items;
    this.columns = columns;
  }

  get size(): number {
    return this.items.size;
  }

  /** The attribute names, standard ones first. */
  get attributes(): string[] {
    return [...this.columns.keys()];
  }

  column(attribute: string): Column | undefined {
    return this.columns.get(attribute);
  }

  /** Builds a catalogue from arrays (see CatalogInput); ids must be unique. */
  static fromArrays(input: CatalogInput): Catalog {
    if (input === null || typeof input !== 'object' || !Array.isArray(input.id)) throw badInput('a catalogue needs an id array');
    const n = input.id.length;
    input.id.forEach((id, i) => checkId(id, `id[${i}]`));
    const items = new IdMap(input.id, 'item');
    if (items.hasDuplicates()) throw badInput(`duplicate product id ${JSON.stringify(firstDuplicate(input.id))}`);
    const columns = new Map<string, Column>();
    for (const [name, values] of Object.entries(input)) {
      if (name === 'id' || values === undefined) continue;
      if (name === '__proto__' || !Array.isArray(values) || values.length !== n) throw new AffinityError(`attribute ${name} must be an array of ${n} values`, ErrorCode.DimMismatch);
      columns.set(name, toColumn(name, values));
    }
    const stock = columns.get('stock');
    if (!columns.has('inStock') && stock?.type === 'number') columns.set('inStock', { type: 'boolean', values: Array.from(stock.values, (s) => (Number.isNaN(s) ? null : s > 0)) });
    const ordered = new Map([...STANDARD.filter((s) => columns.has(s)).map((s) => [s, columns.get(s)!] as const), ...[...columns].filter(([k]) => !(STANDARD as readonly string[]).includes(k))]);
    return new Catalog(items, ordered);
  }

  /** Reads products.csv / .json / .jsonl. Malformed rows are errors that name the file and line. */
  static async fromFile(path: string, options: CatalogFileOptions = {}): Promise<Catalog> {
    if (typeof path !== 'string' || path.length === 0) throw badInput('path must be a non-empty string');
    const text = await readTextFile(path);
    const format = options.format ?? ({ '.json': 'json', '.jsonl': 'jsonl', '.ndjson': 'jsonl' } as const)[extname(path).toLowerCase() as '.json'] ?? 'csv';
    const records = format === 'csv' ? csvRecords(text, path, options) : jsonRecords(text, path, format === 'jsonl');
    return Catalog.fromRecords(records, path, options.columns);
  }

  /** Builds a catalogue from objects ({ id, name, category, price, ... }); `where` names the source in errors. */
  static fromRecords(records: Iterable<{ record: Record<string, unknown>; at: string }>, where = 'catalogue', names: CatalogColumns = {}): Catalog {
    const rename = new Map(Object.entries({ id: 'id', ...names }).map(([standard, source]) => [source as string, standard]));
    const arrays: Record<string, unknown[]> = { id: [] };
    let n = 0;
    for (const { record, at } of records) {
      if (record === null || typeof record !== 'object' || Array.isArray(record)) throw new AffinityError(`${at}: a product must be an object`, ErrorCode.Parse);
      const row: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(record)) {
        if (key === '__proto__') throw new AffinityError(`${at}: the attribute name __proto__ is not allowed`, ErrorCode.Parse);
        row[rename.get(key) ?? key] = value;
      }
      const problem = idProblem(row.id);
      if (problem !== undefined) throw new AffinityError(`${at}: product id: ${problem}`, ErrorCode.Parse);
      for (const [key, value] of Object.entries(row)) {
        (arrays[key] ??= new Array(n).fill(null))[n] = value;
      }
      for (const a of Object.values(arrays)) if (a.length === n) a.push(null);
      n++;
      try {
        checkRow(row);
      } catch (err) {
        throw new AffinityError(`${at}: ${(err as Error).message}`, ErrorCode.Parse);
      }
    }
    if (n === 0) throw new AffinityError(`${where}: no products`, ErrorCode.Parse);
    try {
      return Catalog.fromArrays(arrays as unknown as CatalogInput);
    } catch (err) {
      throw new AffinityError(`${where}: ${(err as Error).message}`, (err as AffinityError).code ?? ErrorCode.Parse);
    }
  }

  /** The catalogue row of an id ("123" and 123 are the same product), or -1. */
  rowOf(id: Id): number {
    const found = resolveId(this.items, id);
    return found === undefined ? -1 : this.items.find(found);
  }

  /** The given attributes of a product (all when none are named); undefined when the catalogue lacks it. */
  attributesOf(id: Id, fields?: readonly string[]): Attributes | undefined {
    const row = this.rowOf(id);
    return row < 0 ? undefined : this.attributesAt(row, fields ?? this.attributes);
  }

  attributesAt(row: number, fields: readonly string[]): Attributes {
    const out: Attributes = {};
    for (const f of fields) {
      const c = this.columns.get(f);
      if (!c) throw unknownAttribute(f, this.attributes);
      const v = c.values[row];
      out[f] = c.type === 'number' ? (Number.isNaN(v as number) ? null : (v as number)) : (v as AttributeValue | string[]);
    }
    return out;
  }

  /** Checks attribute names a caller asks for (unknown ones throw ERR_AFFINITY_UNKNOWN_ATTRIBUTE). */
  checkFields(fields: readonly string[]): void {
    for (const f of fields) if (!this.columns.has(f)) throw unknownAttribute(f, this.attributes);
  }

  /**
   * A compiled filter ({ category: { in: ['tea'] }, price: { lte: 20 }, inStock: true }), cached by its
   * canonical form: the same filter asked again costs a lookup, and its item masks are kept with it.
   */
  filter(spec: FilterSpec): ItemFilter {
    const key = canonical(spec);
    let f = this.filters.get(key);
    if (f) {
      this.filters.delete(key); // most recently used last
      this.filters.set(key, f);
      return f;
    }
    f = compileFilter(this, spec);
    this.filters.set(key, f);
    if (this.filters.size > FILTER_CACHE) this.filters.delete(this.filters.keys().next().value!);
    return f;
  }

  /** For each item of a model, its catalogue row (-1 where the catalogue lacks it), computed once per model. */
  alignTo(items: IdMap): { rows: Int32Array; missing: number } {
    let a = this.alignments.get(items);
    if (!a) {
      const rows = Int32Array.from(items.ids, (id) => this.rowOf(id));
      let missing = 0;
      for (const r of rows) if (r < 0) missing++;
      this.alignments.set(items, (a = { rows, missing }));
    }
    return a;
  }
}

/** Compiled filters kept per catalogue. */
const FILTER_CACHE = 1024;


function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'undefined';
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  return `{${Object.keys(v)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
    .join(',')}}`;
}

function firstDuplicate(ids: readonly Id[]): Id | undefined {
  const seen = new Set<Id>();
  for (const id of ids) {
    if (seen.has(id)) return id;
    seen.add(id);
  }
  return undefined;
}

/** The checks one record must pass, so an error can name its line. */
function checkRow(row: Record<string, unknown>): void {
  for (const key of ['price', 'stock'] as const) {
    const v = row[key];
    if (v !== undefined && v !== null && (typeof v !== 'number' || !Number.isFinite(v))) throw new Error(`${key} must be a finite number, got ${JSON.stringify(v)}`);
  }
  const s = row.inStock;
  if (s !== undefined && s !== null && typeof s !== 'boolean') throw new Error(`inStock must be true or false, got ${JSON.stringify(s)}`);
  const c = row.category;
  if (c !== undefined && c !== null && typeof c !== 'string' && !(Array.isArray(c) && c.every((x) => typeof x === 'string'))) throw new Error('category must be a string or a list of strings');
}

function toColumn(name: string, values: readonly unknown[]): Column {
  if (name === 'category') return { type: 'strings', values: values.map((v) => (v === null || v === undefined ? [] : Array.isArray(v) ? [...v] : [v as string])) };
  if (name === 'price' || name === 'stock') return { type: 'number', values: Float64Array.from(values, (v) => (v === null || v === undefined ? NaN : (v as number))) };
  const present = values.filter((v) => v !== null && v !== undefined);
  if (name === 'inStock' || (present.length > 0 && present.every((v) => typeof v === 'boolean'))) return { type: 'boolean', values: values.map((v) => (typeof v === 'boolean' ? v : null)) };
  if (present.length > 0 && present.every((v) => typeof v === 'number' && Number.isFinite(v))) return { type: 'number', values: Float64Array.from(values, (v) => (typeof v === 'number' ? v : NaN)) };
  if (present.every((v) => Array.isArray(v) && v.every((x) => typeof x === 'string'))) return { type: 'strings', values: values.map((v) => (Array.isArray(v) ? [...v] : [])) };
  return { type: 'string', values: values.map((v) => (v === null || v === undefined ? null : typeof v === 'string' ? v : JSON.stringify(v))) };
}

function* csvRecords(text: string, where: string, options: CatalogFileOptions): Generator<{ record: Record<string, unknown>; at: string }> {
  const rows = parseCsv(text, options.delimiter ?? sniffDelimiter(text), where);
  const head = rows.next();
  if (head.done) throw new AffinityError(`${where}: empty file`, ErrorCode.Parse);
  const header = head.value.fields.map((h) => h.trim());
  const names: Record<string, string> = Object.fromEntries(['id', ...STANDARD].map((a) => [a, options.columns?.[a as keyof CatalogColumns] ?? a]));
  if (!header.includes(names.id)) throw new AffinityError(`${where}:1: no ${JSON.stringify(names.id)} column (the header has ${header.join(', ')})`, ErrorCode.Parse);
  const kindOf = new Map<string, string>(Object.entries(names).map(([standard, source]) => [source, standard]));
  const separator = options.categorySeparator ?? '|';
  // Extra columns become numbers when every value of theirs reads as one.
  const table = [...rows];
  const numeric = header.map((h, c) => !kindOf.has(h) && table.every((r) => r.fields[c] === undefined || r.fields[c].trim() === '' || Number.isFinite(Number(r.fields[c]))) && table.some((r) => (r.fields[c] ?? '').trim() !== ''));
  for (const { fields, line } of table) {
    if (fields.length !== header.length) throw new AffinityError(`${where}:${line}: ${fields.length} fields, the header has ${header.length}`, ErrorCode.Parse);
    const record: Record<string, unknown> = {};
    header.forEach((h, c) => {
      const raw = fields[c];
      const v = raw.trim();
      const kind = kindOf.get(h);
      if (kind === 'id') record[h] = raw;
      else if (v === '') record[h] = null;
      else if (kind === 'price' || kind === 'stock' || numeric[c]) {
        const x = Number(v);
        if (!Number.isFinite(x)) throw new AffinityError(`${where}:${line}: ${h} must be a number, got ${JSON.stringify(raw)}`, ErrorCode.Parse);
        record[h] = x;
      } else if (kind === 'inStock') {
        const b = v.toLowerCase();
        if (!TRUE.has(b) && !FALSE.has(b)) throw new AffinityError(`${where}:${line}: ${h} must be true/false, 1/0 or yes/no, got ${JSON.stringify(raw)}`, ErrorCode.Parse);
        record[h] = TRUE.has(b);
      } else if (kind === 'category') record[h] = v.split(separator).map((s) => s.trim()).filter((s) => s.length > 0);
      else record[h] = raw;
    });
    yield { record, at: `${where}:${line}` };
  }
}

function* jsonRecords(text: string, where: string, lines: boolean): Generator<{ record: Record<string, unknown>; at: string }> {
  const parse = (s: string, at: string): unknown => {
    try {
      return JSON.parse(s);
    } catch (err) {
      throw new AffinityError(`${at}: not JSON (${(err as Error).message})`, ErrorCode.Parse);
    }
  };
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (lines) {
    const all = text.split('\n');
    for (let i = 0; i < all.length; i++) if (all[i].trim() !== '') yield { record: parse(all[i], `${where}:${i + 1}`) as Record<string, unknown>, at: `${where}:${i + 1}` };
    return;
  }
  const list = parse(text, where);
  if (!Array.isArray(list)) throw new AffinityError(`${where}: a JSON catalogue must be an array of products`, ErrorCode.Parse);
  for (let i = 0; i < list.length; i++) yield { record: list[i] as Record<string, unknown>, at: `${where}: product ${i + 1}` };
}
