// Purchase lines from a CSV file (plain or .gz): the columns of a shop export named or numbered, an
// amount that may be the product of two columns (Quantity*UnitPrice), times as ISO dates or unix seconds.
import { readFile, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { AffinityError, ErrorCode, badInput } from '../core/errors.js';
import { parseCsv, sniffDelimiter } from './csv.js';

/** Where each field is: a header name or a 0-based index; amount may be "A*B" (their product). */
export interface TransactionColumns {
  customer: string | number;
  item: string | number;
  time: string | number;
  amount?: string | number;
  basket?: string | number;
}

export interface TransactionFileOptions {
  columns: TransactionColumns;
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
  times: number[];
  amounts: number[];
  baskets?: string[];
  /** Rows skipped with skipInvalid, and the first reasons. */
  skipped: number;
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

export async function readTransactionRows(path: string, options: TransactionFileOptions): Promise<TransactionRows> {
  const { columns } = options;
  if (columns === null || typeof columns !== 'object' || columns.customer === undefined || columns.item === undefined || columns.time === undefined)
    throw badInput('columns must name customer, item and time (and optionally amount and basket)');
  let bytes: Buffer;
  try {
    if (!(await stat(path)).isFile()) throw new Error('not a regular file');
    bytes = await readFile(path);
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = await promisify(gunzip)(bytes);
  } catch (err) {
    throw new AffinityError(`${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`, ErrorCode.Io, { cause: err });
  }
  const text = bytes.toString('utf8');
  const rows = parseCsv(text, options.delimiter ?? sniffDelimiter(text), path);
  const named = Object.values(columns).some((c) => typeof c === 'string' && !/^\d+$/.test(c));
  const header = options.header ?? named;
  const first = header ? rows.next() : undefined;
  const names: string[] = first && !first.done ? first.value.fields.map((h: string) => h.trim()) : [];
  const index = (c: string | number, what: string): number => {
    const i = typeof c === 'number' || /^\d+$/.test(c) ? Number(c) : names.indexOf(c);
    if (i < 0) throw new AffinityError(`${path}:1: no column ${JSON.stringify(c)} for ${what} (the header has ${names.join(', ')})`, ErrorCode.Parse);
    return i;
  };
  const ci = index(columns.customer, 'customer');
  const ii = index(columns.item, 'item');
  const ti = index(columns.time, 'time');
  const amount = columns.amount === undefined ? [] : String(columns.amount).split('*').map((c) => index(c.trim(), 'amount'));
  const bi = columns.basket === undefined ? -1 : index(columns.basket, 'basket');
  const out: TransactionRows = { customers: [], items: [], times: [], amounts: [], baskets: bi >= 0 ? [] : undefined, skipped: 0, problems: [] };
  const widest = Math.max(ci, ii, ti, bi, ...amount);
  for (const { fields, line } of rows) {
    const problem =
      fields.length <= widest ? `${fields.length} fields, column ${widest} is needed` : fields[ci].trim() === '' ? 'no customer' : fields[ii].trim() === '' ? 'no item' : undefined;
    const time = problem ? NaN : parseTime(fields[ti]);
    const value = problem ? NaN : amount.reduce((p, a) => p * Number(fields[a]), 1);
    const why = problem ?? (!Number.isFinite(time) ? `unreadable time ${JSON.stringify(fields[ti])}` : !Number.isFinite(value) ? 'unreadable amount' : undefined);
    if (why !== undefined) {
      if (!options.skipInvalid) throw new AffinityError(`${path}:${line}: ${why} (skipInvalid skips such rows)`, ErrorCode.Parse);
      out.skipped++;
      if (out.problems.length < 5) out.problems.push(`line ${line}: ${why}`);
      continue;
    }
    out.customers.push(fields[ci].trim());
    out.items.push(fields[ii].trim());
    out.times.push(time);
    out.amounts.push(value);
    out.baskets?.push(fields[bi].trim());
  }
  return out;
}
