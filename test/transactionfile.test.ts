// Purchase-line exports: columns by name or position, amounts from quantity and price, row conditions,
// invalid rows skipped and counted, and errors that say what the file holds.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { Transactions } from '../src/index.js';

let dir: string;
const CSV = [
  'InvoiceNo;StockCode;Quantity;InvoiceDate;UnitPrice;CustomerID',
  '536365;A;6;2010-12-01 08:26:00;2.5;17850',
  '536365;B;2;2010-12-01 08:26:00;1.25;17850',
  'C536379;A;-1;2010-12-01 09:41:00;2.5;17850',
  '536380;C;3;2010-12-02 10:00:00;4;',
  '536381;B;1;2010-12-03T11:00:00;1.25;13047',
  '536382;A;5;yesterday;2.5;13047',
].join('\n');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'affinity-txfile-'));
  await writeFile(join(dir, 'lines.csv'), CSV);
  await writeFile(join(dir, 'lines.csv.gz'), gzipSync(CSV));
});

const columns = { customer: 'CustomerID', item: 'StockCode', time: 'InvoiceDate', quantity: 'Quantity', price: 'UnitPrice', basket: 'InvoiceNo' };

describe('Transactions.fromFile', () => {
  it('reads named columns (delimiter sniffed, gzip by content), amounts as quantity x price, and row conditions', async () => {
    for (const name of ['lines.csv', 'lines.csv.gz']) {
      const tx = await Transactions.fromFile(join(dir, name), { columns, where: { Quantity: { gt: 0 }, InvoiceNo: { notStartsWith: 'C' } }, skipInvalid: true });
      expect([tx.size, tx.skipped, tx.filtered]).toEqual([3, 2, 1]);
      expect(Array.from(tx.amount)).toEqual([15, 2.5, 1.25]);
      expect(tx.customers.ids).toEqual(['17850', '13047']);
      expect(tx.time[0]).toBe(Date.UTC(2010, 11, 1, 8, 26) / 1000);
      expect(tx.basketCount).toBe(2);
    }
    const all = await Transactions.fromFile(join(dir, 'lines.csv'), { columns: { customer: 5, item: 1, time: 3, amount: 'Quantity*UnitPrice' }, header: true, skipInvalid: true });
    expect([all.size, all.skipped, all.filtered]).toEqual([4, 2, 0]);
    expect(all.amount[2]).toBe(-2.5); // returns are kept unless a condition leaves them out
    const conditions = await Transactions.fromFile(join(dir, 'lines.csv'), { columns, where: { StockCode: { in: ['A', 'C'] }, CustomerID: { empty: false } }, skipInvalid: true });
    expect(Array.from(conditions.item, (i) => conditions.items.ids[i])).toEqual(['A', 'A']);
  });

  it('names the file and line of a bad row, and what the header holds for an unknown column', async () => {
    const path = join(dir, 'lines.csv');
    await expect(Transactions.fromFile(path, { columns })).rejects.toMatchObject({ code: 'ERR_AFFINITY_PARSE', message: expect.stringMatching(/lines\.csv:5: no customer \(skipInvalid skips such rows\)/) });
    await expect(Transactions.fromFile(path, { columns: { ...columns, customer: 'CustomerId' } })).rejects.toMatchObject({
      message: expect.stringMatching(/no column "CustomerId" for customer \(the header has InvoiceNo, StockCode, .*; did you mean "CustomerID"\?\)/),
    });
    await expect(Transactions.fromFile(path, { columns, delimiter: ',' })).rejects.toMatchObject({ message: expect.stringMatching(/the header reads as one column, .*: give the delimiter/) });
    await expect(Transactions.fromFile(path, { columns, where: { Quantity: { above: 0 } } as never })).rejects.toMatchObject({ code: 'ERR_AFFINITY_BAD_INPUT', message: expect.stringMatching(/unknown condition "above"/) });
    await expect(Transactions.fromFile(path, { columns, where: { Qty: { gt: 0 } } })).rejects.toMatchObject({ message: expect.stringMatching(/no column "Qty" for where\.Qty/) });
    await expect(Transactions.fromFile(path, { columns, where: { Quantity: { gt: 1e9 } }, skipInvalid: true })).rejects.toMatchObject({ message: expect.stringMatching(/no purchase lines \(where left out all 6\)/) });
    await expect(Transactions.fromFile(join(dir, 'missing.csv'), { columns })).rejects.toMatchObject({ code: 'ERR_AFFINITY_IO' });
  });
});
