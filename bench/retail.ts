// Loads UCI Online Retail into Transactions and a catalogue: purchase lines with a known customer,
// quantity > 0 and an invoice that is not a cancellation (C...) or an adjustment (A...).
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { Transactions, type CatalogItem } from '../src/index.js';

/** Splits one CSV line; fields may be quoted with "" escapes. */
export function csvFields(line: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') (field += '"'), i++;
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') out.push(field), (field = '');
    else field += ch;
  }
  out.push(field);
  return out;
}

export interface Retail {
  tx: Transactions;
  catalog: CatalogItem[];
  /** A coarse product type: the last word of the description ("HOLDER", "LANTERN"), for profiles and features. */
  categoryOf: (item: string | number) => string | undefined;
}

export async function loadRetail(path: string): Promise<Retail> {
  const customers: string[] = [];
  const items: string[] = [];
  const baskets: string[] = [];
  const times: number[] = [];
  const amounts: number[] = [];
  const descriptions = new Map<string, string>();
  const lines = createInterface({ input: createReadStream(path).pipe(createGunzip()), crlfDelay: Infinity });
  let header = true;
  for await (const line of lines) {
    if (header) {
      header = false;
      continue;
    }
    const [invoice, stock, description, quantity, date, price, customer] = csvFields(line);
    if (description && !descriptions.has(stock)) descriptions.set(stock, description);
    const q = Number(quantity);
    if (!customer || !(q > 0) || invoice.startsWith('C') || invoice.startsWith('A')) continue;
    customers.push(customer);
    items.push(stock);
    baskets.push(invoice);
    times.push(Date.parse(date.replace(' ', 'T') + 'Z') / 1000);
    amounts.push(q * Number(price));
  }
  const tx = Transactions.fromArrays({ customers, items, baskets, timestamps: times, amounts });
  const catalog = Array.from(descriptions, ([id, text]) => ({ id, text }));
  const category = new Map(Array.from(descriptions, ([id, text]) => [id, text.trim().split(/\s+/).pop()?.toUpperCase()]));
  return { tx, catalog, categoryOf: (item) => category.get(String(item)) };
}
