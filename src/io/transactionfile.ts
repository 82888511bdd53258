// Purchase lines from a CSV file (plain or .gz): the columns of a shop export named or numbered, an
// amount that may be the product of two columns (Quantity*UnitPrice), times as ISO dates or unix seconds.
import { AffinityError, ErrorCode, badInput } from '../core/errors.js';
import { parseCsv, sniffDelimiter } from './csv.js';
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

export async function readTransactionRows(path: string, options: TransactionFileOptions, roles: RoleNames = { customer: 'customer', amount: 'amount' }): Promise<TransactionRows> {
  const { columns } = options;
  if (columns === null || typeof columns !== 'object' || columns.customer === undefined || columns.item === undefined)
    throw badInput(`columns must name ${roles.customer} and item`);
  const text = await readTextFile(path);
  const rows = parseCsv(text, options.delimiter ?? sniffDelimiter(text), path);
  const named = Object.values(columns).some((c) => typeof c === 'string' && !/^\d+$/.test(c));
  const header = options.header ?? named;
  const first = header ? rows.next() : undefined;
  const names: string[] = first && !first.done ? first.value.fields.map((h: string) => h.trim()) : [];
  const index = (c: string | number, what: string): number => {
    const i = typeof c === 'number' || /^\d+$/.test(c) ? Number(c) : names.indexOf(c);
    if (i < 0) throw new AffinityError(`${path}:1: no column ${JSON.stringify(c)} for ${what}${columnHint(String(c), names)}`, ErrorCode.Parse);
    return i;
  };
  const ci = index(columns.customer, roles.customer);
  const ii = index(columns.item, 'item');
  const ti = columns.time === undefined ? -1 : index(columns.time, 'time');
  const amountSpec = columns.amount ?? (columns.quantity !== undefined && columns.price !== undefined ? `${columns.quantity}*${columns.price}` : columns.quantity);
  const amount = amountSpec === undefined ? [] : String(amountSpec).split('*').map((c) => index(c.trim(), roles.amount));
  const bi = columns.basket === undefined ? -1 : index(columns.basket, 'basket');
  const tests = Object.entries(options.where ?? {}).map(([column, condition]) => rowTest(index(column, `where.${column}`), column, condition));
  const out: TransactionRows = { customers: [], items: [], times: ti >= 0 ? [] : undefined, amounts: [], baskets: bi >= 0 ? [] : undefined, skipped: 0, filtered: 0, problems: [] };
  const widest = Math.max(ci, ii, ti, bi, ...amount);
  for (const { fields, line } of rows) {
    if (tests.length > 0 && fields.length > widest && !tests.every((t) => t(fields))) {
      out.filtered++;
      continue;
    }
    const problem =
      fields.length <= widest ? `${fields.length} fields, column ${widest} is needed` : fields[ci].trim() === '' ? `no ${roles.customer}` : fields[ii].trim() === '' ? 'no item' : undefined;
    const time = problem ? NaN : ti < 0 ? 0 : parseTime(fields[ti]);
    const value = problem ? NaN : amount.reduce((p, a) => p * Number(fields[a]), 1);
    const why = problem ?? (!Number.isFinite(time) ? `unreadable time ${JSON.stringify(fields[ti])}` : !Number.isFinite(value) ? `unreadable ${roles.amount}` : undefined);
    if (why !== undefined) {
      if (!options.skipInvalid) throw new AffinityError(`${path}:${line}: ${why} (skipInvalid skips such rows)`, ErrorCode.Parse);
      out.skipped++;
      if (out.problems.length < 5) out.problems.push(`line ${line}: ${why}`);
      continue;
    }
    out.customers.push(fields[ci].trim());
    out.items.push(fields[ii].trim());
    out.times?.push(time);
    out.amounts.push(value);
    out.baskets?.push(fields[bi].trim());
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
