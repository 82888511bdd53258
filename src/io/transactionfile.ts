// Purchase lines from a CSV file (plain or .gz), or a Parquet or Arrow file: the columns of a shop export named or numbered, an
// amount that may be the product of two columns (Quantity*UnitPrice), times as ISO dates or unix seconds.
import { AffinityError, ErrorCode, badInput } from '../core/errors.js';
import { parseCsv, sniffDelimiter, type CsvRow } from './csv.js';
import { openTable, tableFormatOf } from './tablefile.js';
import { readTextFile } from './files.js';

/** Where each field is: a header name or a 0-based index; amount may be "A*B" (their product). */
export interface TransactionColumns {
  customer: string | number;
  item: string | number;
  /** Required for purchase lines (Transactions); optional when interactions are read through this reader. */
  time?: string | number;
  /** The line's spend. Default: quantity × price when both are given, else 1. */
  amount?: string | number;
  quantity?: string | number;
  price?: string | number;
  basket?: string | number;
}

/** A condition on one column's text (numeric operators read it as a number; a row where it is not one fails). */
export interface RowCondition {
  eq?: string | number;
  notEq?: string | number;
  in?: (string | number)[];
  notIn?: (string | number)[];
  lt?: number;
  lte?: number;
  gt?: number;
  gte?: number;
  startsWith?: string;
  notStartsWith?: string;
  /** true: the field is empty; false: it is not. */
  empty?: boolean;
}

/** Column -> condition: rows that fail any are left out (and counted), e.g. { Quantity: { gt: 0 }, InvoiceNo: { notStartsWith: 'C' } }. */
export type RowFilter = Record<string, RowCondition>;

export interface TransactionFileOptions {
  columns: TransactionColumns;
  /** Keep only the rows that meet these conditions (returns, cancellations and test orders out). */
  where?: RowFilter;
  /** Default: sniffed among , ; tab |. */
  delimiter?: string;
  /** Whether the first row names the columns (default: true when any column is given by name). */
  header?: boolean;
  /** Skip rows with an empty customer or item, or an unreadable time or amount, instead of failing (they are counted). */
  skipInvalid?: boolean;
}

export interface TransactionRows {
  customers: string[];
  items: string[];
  /** Absent when no time column was named. */
  times?: number[];
  amounts: number[];
  baskets?: string[];
  /** Rows skipped with skipInvalid, and the first reasons. */
  skipped: number;
  /** Rows the `where` conditions left out. */
  filtered: number;
  problems: string[];
}

/** Unix seconds from a date-time text ("2010-12-01 08:26:00", ISO 8601, or a number of seconds); NaN when unreadable. */
export function parseTime(text: string): number {
  const s = text.trim();
  if (/^-?\d+(\.\d+)?$/.test(s)) return Number(s);
  const iso = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(s) ? `${s.replace(' ', 'T')}Z` : s;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms / 1000 : NaN;
}

/** What the roles are called in messages (interactions call customer "user" and amount "value"). */
export interface RoleNames {
  customer: string;
  amount: string;
}

/** Rows of a text export or a columnar file, with what errors call a row. */
interface RowSource {
  names: string[];
  /** `${path}:LINE` for text, `${path}: row N` for tables. */
  at(line: number): string;
  /** Batches of rows; a table's hold only `columns`, in that order. */
  batches(columns: number[]): AsyncIterable<Iterable<CsvRow>>;
  columnar: boolean;
}

async function textSource(path: string, options: TransactionFileOptions, named: boolean): Promise<RowSource> {
  const text = await readTextFile(path);
  const rows = parseCsv(text, options.delimiter ?? sniffDelimiter(text), path);
  const first = (options.header ?? named) ? rows.next() : undefined;
  const names: string[] = first && !first.done ? first.value.fields.map((h: string) => h.trim()) : [];
  return {
    names,
    at: (line) => `${path}:${line}`,
    async *batches() {
      yield rows;
    },
    columnar: false,
  };
}

async function rowSource(path: string, options: TransactionFileOptions, named: boolean): Promise<RowSource> {
  const format = await tableFormatOf(path);
  if (!format) return textSource(path, options, named);
  const table = await openTable(path, format);
  return { names: table.names, at: (line) => `${path}: row ${line}`, batches: (columns) => table.batches(columns), columnar: true };
}

/**
 * Purchase lines (or interactions, with `roles`) from a CSV export, plain or gzip, or from a Parquet or
 * Arrow IPC file (told apart by their magic bytes): the same column roles, conditions and errors for all.
 */
export async function readTransactionRows(path: string, options: TransactionFileOptions, roles: RoleNames = { customer: 'customer', amount: 'amount' }): Promise<TransactionRows> {
  const { columns } = options;
  if (columns === null || typeof columns !== 'object' || columns.customer === undefined || columns.item === undefined)
    throw badInput(`columns must name ${roles.customer} and item`);
  const named = Object.values(columns).some((c) => typeof c === 'string' && !/^\d+$/.test(c));
  const source = await rowSource(path, options, named);
  const { names } = source;
  const where = source.columnar ? path : `${path}:1`;
  const index = (c: string | number, what: string): number => {
    const i = typeof c === 'number' || /^\d+$/.test(c) ? Number(c) : names.indexOf(c);
    if (i < 0 || (source.columnar && i >= names.length))
      throw new AffinityError(`${where}: no column ${JSON.stringify(c)} for ${what}${columnHint(String(c), names)}`, ErrorCode.Parse);
    return i;
  };
  const ci = index(columns.customer, roles.customer);
  const ii = index(columns.item, 'item');
  const ti = columns.time === undefined ? -1 : index(columns.time, 'time');
  const amountSpec = columns.amount ?? (columns.quantity !== undefined && columns.price !== undefined ? `${columns.quantity}*${columns.price}` : columns.quantity);
  const amount = amountSpec === undefined ? [] : String(amountSpec).split('*').map((c) => index(c.trim(), roles.amount));
  const bi = columns.basket === undefined ? -1 : index(columns.basket, 'basket');
  const conditions = Object.entries(options.where ?? {}).map(([column, condition]) => ({ at: index(column, `where.${column}`), column, condition }));
  // A table's rows hold only the columns read, in this order; a text row holds every field.
  const read = [...new Set([ci, ii, ti, bi, ...amount, ...conditions.map((c) => c.at)].filter((i) => i >= 0))].sort((a, b) => a - b);
  const pos = (i: number) => (i < 0 || !source.columnar ? i : read.indexOf(i));
  const [c, it, t, b] = [pos(ci), pos(ii), pos(ti), pos(bi)];
  const a = amount.map(pos);
  const tests = conditions.map((x) => rowTest(pos(x.at), x.column, x.condition));
  const out: TransactionRows = { customers: [], items: [], times: t >= 0 ? [] : undefined, amounts: [], baskets: b >= 0 ? [] : undefined, skipped: 0, filtered: 0, problems: [] };
  const widest = Math.max(c, it, t, b, ...a);
  for await (const batch of source.batches(read)) {
    for (const { fields, line } of batch) {
      if (tests.length > 0 && fields.length > widest && !tests.every((test) => test(fields))) {
        out.filtered++;
        continue;
      }
      const problem =
        fields.length <= widest ? `${fields.length} fields, column ${widest} is needed` : fields[c].trim() === '' ? `no ${roles.customer}` : fields[it].trim() === '' ? 'no item' : undefined;
      const time = problem ? NaN : t < 0 ? 0 : parseTime(fields[t]);
      const value = problem ? NaN : a.reduce((p, x) => p * (fields[x].trim() === '' ? NaN : Number(fields[x])), 1);
      const why = problem ?? (!Number.isFinite(time) ? `unreadable time ${JSON.stringify(fields[t])}` : !Number.isFinite(value) ? `unreadable ${roles.amount}` : undefined);
      if (why !== undefined) {
        if (!options.skipInvalid) throw new AffinityError(`${source.at(line)}: ${why} (skipInvalid skips such rows)`, ErrorCode.Parse);
        out.skipped++;
        if (out.problems.length < 5) out.problems.push(`${source.columnar ? 'row' : 'line'} ${line}: ${why}`);
        continue;
      }
      out.customers.push(fields[c].trim());
      out.items.push(fields[it].trim());
      out.times?.push(time);
      out.amounts.push(value);
      out.baskets?.push(fields[b].trim());
    }
  }
  return out;
}

/** Why a column name was not found: the columns there are, the closest one, and a delimiter hint. */
export function columnHint(wanted: string, names: string[]): string {
  if (names.length === 1 && /[,;\t|]/.test(names[0])) return ` (the header reads as one column, ${JSON.stringify(names[0])}: give the delimiter)`;
  const distance = (a: string, b: string) => {
    const d = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      let prev = d[0];
      d[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const next = d[j];
        d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
        prev = next;
      }
    }
    return d[b.length];
  };
  const best = names.map((n) => [n, distance(wanted, n)] as const).sort((a, b) => a[1] - b[1])[0];
  const mean = best && best[1] <= Math.max(2, Math.floor(wanted.length / 3)) ? `; did you mean ${JSON.stringify(best[0])}?` : '';
  return ` (the header has ${names.join(', ')}${mean})`;
}

const CONDITIONS = new Set(['eq', 'notEq', 'in', 'notIn', 'lt', 'lte', 'gt', 'gte', 'startsWith', 'notStartsWith', 'empty']);

/** A test of one row's field against a condition (checked once, when the filter is read). */
function rowTest(at: number, column: string, c: RowCondition): (fields: string[]) => boolean {
  if (c === null || typeof c !== 'object' || Array.isArray(c)) throw badInput(`where.${column} must be an object of conditions`);
  for (const op of Object.keys(c)) if (!CONDITIONS.has(op)) throw badInput(`where.${column}: unknown condition ${JSON.stringify(op)} (use ${[...CONDITIONS].join(', ')})`);
  for (const op of ['lt', 'lte', 'gt', 'gte'] as const) if (c[op] !== undefined && !Number.isFinite(c[op])) throw badInput(`where.${column}.${op} must be a finite number`);
  for (const op of ['in', 'notIn'] as const) if (c[op] !== undefined && !Array.isArray(c[op])) throw badInput(`where.${column}.${op} must be a list`);
  const text = (v: string | number) => String(v);
  const inSet = c.in && new Set(c.in.map(text));
  const notIn = c.notIn && new Set(c.notIn.map(text));
  const numeric = c.lt !== undefined || c.lte !== undefined || c.gt !== undefined || c.gte !== undefined;
  return (fields) => {
    const v = fields[at].trim();
    if (c.empty !== undefined && (v === '') !== c.empty) return false;
    if (c.eq !== undefined && v !== text(c.eq)) return false;
    if (c.notEq !== undefined && v === text(c.notEq)) return false;
    if (inSet && !inSet.has(v)) return false;
    if (notIn && notIn.has(v)) return false;
    if (c.startsWith !== undefined && !v.startsWith(c.startsWith)) return false;
    if (c.notStartsWith !== undefined && v.startsWith(c.notStartsWith)) return false;
    if (numeric) {
      const x = v === '' ? NaN : Number(v);
      if (!Number.isFinite(x)) return false;
      if ((c.lt !== undefined && !(x < c.lt)) || (c.lte !== undefined && !(x <= c.lte)) || (c.gt !== undefined && !(x > c.gt)) || (c.gte !== undefined && !(x >= c.gte))) return false;
    }
    return true;
  };
}
