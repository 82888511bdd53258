// Transactions: purchase lines (customer, item, time, amount, basket), the input of segmentation,
// churn features and co-purchase rules. Interactions merge repeated pairs; these keep every line.
import { AffinityError, ErrorCode, badInput } from '../core/errors.js';
import { IdMap, internIds, type Id } from './ids.js';
import { Interactions } from './interactions.js';
import { readTransactionRows, type TransactionFileOptions } from '../io/transactionfile.js';

export interface TransactionsInput {
  customers: ArrayLike<Id>;
  items: ArrayLike<Id>;
  /** Unix time in seconds, or Dates. */
  timestamps: ArrayLike<number | Date>;
  /** Monetary value of each line (quantity x price). Default 1. */
  amounts?: ArrayLike<number>;
  /** The basket (invoice, order) of each line. Default: one basket per customer and timestamp. */
  baskets?: ArrayLike<Id>;
}

export const SECONDS_PER_DAY = 86_400;

export class Transactions {
  private constructor(
    readonly customers: IdMap,
    readonly items: IdMap,
    /** Per line: customer index, item index, basket index, unix seconds, amount. */
    readonly customer: Int32Array,
    readonly item: Int32Array,
    readonly basket: Int32Array,
    readonly time: Float64Array,
    readonly amount: Float32Array,
    readonly basketCount: number,
  ) {}

  get size(): number {
    return this.customer.length;
  }
  /** Earliest and latest timestamp (unix seconds). */
  get timeRange(): [number, number] {
    let lo = Infinity;
    let hi = -Infinity;
    for (const t of this.time) {
      if (t < lo) lo = t;
      if (t > hi) hi = t;
    }
    return [lo, hi];
  }

  /**
   * Reads purchase lines from a CSV export (plain or gzip): `columns` names (or numbers) the customer,
   * item, time, amount (or quantity and price, or "Quantity*UnitPrice") and basket columns; `where` keeps
   * the rows meeting column conditions ({ Quantity: { gt: 0 }, InvoiceNo: { notStartsWith: 'C' } });
   * `skipInvalid` skips rows without a customer or item or with an unreadable time or amount. Malformed
   * rows name file and line; an unknown column lists the header and the closest name.
   */
  static async fromFile(path: string, options: TransactionFileOptions): Promise<Transactions & { skipped: number; filtered: number }> {
    if (options === null || typeof options !== 'object') throw badInput('fromFile needs { columns: { customer, item, time, ... } }');
    if (options.columns?.time === undefined) throw badInput('columns must name customer, item and time (and optionally amount, quantity, price and basket)');
    const r = await readTransactionRows(path, options);
    if (r.customers.length === 0) throw new AffinityError(`${path}: no purchase lines${r.filtered ? ` (where left out all ${r.filtered})` : ''}`, ErrorCode.Parse);
    const tx = Transactions.fromArrays({ customers: r.customers, items: r.items, timestamps: r.times!, amounts: r.amounts, baskets: r.baskets });
    return Object.assign(tx, { skipped: r.skipped, filtered: r.filtered });
  }

  static fromArrays(input: TransactionsInput): Transactions {
    if (input === null || typeof input !== 'object') throw badInput('fromArrays needs { customers, items, timestamps, amounts?, baskets? }');
    const n = lengthOf(input.customers, 'customers');
    for (const [what, v] of [['items', input.items], ['timestamps', input.timestamps]] as const)
      if (lengthOf(v, what) !== n) throw new AffinityError(`${what} has ${v.length} entries, expected ${n}`, ErrorCode.DimMismatch);
    const c = internIds(input.customers, 'customers');
    const i = internIds(input.items, 'items');
    const time = new Float64Array(n);
    for (let r = 0; r < n; r++) {
      const v = input.timestamps[r];
      const t = v instanceof Date ? v.getTime() / 1000 : v;
      if (typeof t !== 'number' || !Number.isFinite(t)) throw badInput(`timestamps[${r}] must be a finite number or a valid Date`);
      time[r] = t;
    }
    const amount = new Float32Array(n).fill(1);
    if (input.amounts !== undefined) {
      if (lengthOf(input.amounts, 'amounts') !== n) throw new AffinityError(`amounts has ${input.amounts.length} entries, expected ${n}`, ErrorCode.DimMismatch);
      for (let r = 0; r < n; r++) {
        const a = input.amounts[r];
        if (typeof a !== 'number' || !Number.isFinite(a)) throw badInput(`amounts[${r}] must be a finite number, got ${String(a)}`);
        amount[r] = a;
      }
    }
    let basket: Int32Array;
    let basketCount: number;
    if (input.baskets !== undefined) {
      if (lengthOf(input.baskets, 'baskets') !== n) throw new AffinityError(`baskets has ${input.baskets.length} entries, expected ${n}`, ErrorCode.DimMismatch);
      const b = internIds(input.baskets, 'baskets');
      basket = b.indices;
      basketCount = b.ids.length;
    } else {
      const keys = new Map<string, number>();
      basket = Int32Array.from({ length: n }, (_, r) => {
        const key = `${c.indices[r]}@${time[r]}`;
        let b = keys.get(key);
        if (b === undefined) keys.set(key, (b = keys.size));
        return b;
      });
      basketCount = keys.size;
    }
    return new Transactions(new IdMap(c.ids, 'user'), new IdMap(i.ids, 'item'), c.indices, i.indices, basket, time, amount, basketCount);
  }

  /** The lines with from <= time < to, over the same customer and item ids. */
  between(from: number, to: number): Transactions {
    const keep: number[] = [];
    for (let r = 0; r < this.size; r++) if (this.time[r] >= from && this.time[r] < to) keep.push(r);
    const pick = <T extends Int32Array | Float64Array | Float32Array>(a: T): T => {
      const out = new (a.constructor as new (n: number) => T)(keep.length);
      keep.forEach((r, j) => (out[j] = a[r]));
      return out;
    };
    return new Transactions(this.customers, this.items, pick(this.customer), pick(this.item), pick(this.basket), pick(this.time), pick(this.amount), this.basketCount);
  }

  /** customers x items, summing `value` per pair: 'count' (lines), 'amount' (spend) or 'binary'. */
  async toInteractions(value: 'count' | 'amount' | 'binary' = 'count'): Promise<Interactions> {
    return Interactions.fromIndices(
      {
        rows: this.customer,
        cols: this.item,
        values: value === 'amount' ? this.amount : undefined,
        timestamps: this.time,
        shape: [this.customers.size, this.items.size],
        userIds: this.customers.ids,
        itemIds: this.items.ids,
      },
      { duplicates: value === 'binary' ? 'max' : 'sum' },
    );
  }

  /** baskets x items with 1 where the basket holds the item: the input of co-purchase rules. Basket ids are indices. */
  async toBaskets(): Promise<Interactions> {
    return Interactions.fromIndices(
      { rows: this.basket, cols: this.item, shape: [this.basketCount, this.items.size], itemIds: this.items.ids },
      { duplicates: 'max' },
    );
  }
}

function lengthOf(v: unknown, what: string): number {
  if (!Array.isArray(v) && !ArrayBuffer.isView(v)) throw badInput(`${what} must be an array`);
  return (v as ArrayLike<unknown>).length;
}
