// Parquet and Arrow IPC input: the shared retail file (zstd, dictionary pages, nullable columns) read the
// same as its CSV copy, files written here with other codecs, several row groups and nulls, and the errors.
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parquetWriteBuffer } from 'hyparquet-writer';
import * as arrow from 'apache-arrow';
import { Interactions, Transactions } from '../src/index.js';
import { tempDir } from './stores.js';

const RETAIL = join(import.meta.dirname, '../../shared/data/uci-online-retail');
const haveRetail = existsSync(join(RETAIL, 'online_retail.parquet'));
const where = { CustomerID: { empty: false }, Quantity: { gt: 0 }, InvoiceNo: { notStartsWith: 'C' } };

/** Where two long arrays first differ (-1: nowhere): a cheap failure, where toEqual would diff 400k entries. */
function firstDifference(a: ArrayLike<unknown> | null | undefined, b: ArrayLike<unknown> | null | undefined): number {
  a ??= null;
  b ??= null;
  if (a === null || b === null) return a === b ? -1 : 0;
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

function same(a: Interactions, b: Interactions) {
  for (const [x, y] of [
    [a.users.ids, b.users.ids],
    [a.items.ids, b.items.ids],
    [a.csr.indptr, b.csr.indptr],
    [a.csr.indices, b.csr.indices],
    [a.csr.data, b.csr.data],
    [a.csr.timestamps, b.csr.timestamps],
  ] as const)
    expect(firstDifference(x, y)).toBe(-1);
}

describe.skipIf(!haveRetail)('the retail file as Parquet (zstd) and as gzip CSV', () => {
  it('gives identical interactions and purchase lines', async () => {
    const csv = join(RETAIL, 'online_retail.csv.gz');
    const parquet = join(RETAIL, 'online_retail.parquet');
    const options = { columns: { user: 'CustomerID', item: 'StockCode', value: 'Quantity', timestamp: 'InvoiceDate' }, where };
    const [a, b] = await Promise.all([Interactions.fromFile(csv, options), Interactions.fromFile(parquet, options)]);
    same(a, b);
    expect(b.size).toBe(266_802); // the README's distinct (CustomerID, StockCode) purchase pairs
    expect(b.filteredLines).toBe(a.filteredLines);
    const columns = { customer: 'CustomerID', item: 'StockCode', time: 'InvoiceDate', quantity: 'Quantity', price: 'UnitPrice', basket: 'InvoiceNo' };
    const [x, y] = await Promise.all([Transactions.fromFile(csv, { columns, where }), Transactions.fromFile(parquet, { columns, where })]);
    expect(y.size).toBe(397_924);
    expect(y.filtered).toBe(x.filtered);
    expect(firstDifference(y.customers.ids, x.customers.ids)).toBe(-1);
    expect(firstDifference(y.items.ids, x.items.ids)).toBe(-1);
    for (const k of ['customer', 'item', 'time', 'amount', 'basket'] as const) expect(firstDifference(y[k], x[k]), k).toBe(-1);
  }, 60_000);
});

const users = ['u1', 'u2', 'u1', 'u3', 'u2', 'u4', 'u1'];
const items = ['a', 'b', 'c', 'a', 'a', 'c', 'b'];
const values = [1, 2, 3, 4, 5, 6, 7];
const times = [1_600_000_000, 1_600_000_060, 1_600_000_120, 1_600_000_180, 1_600_000_240, 1_600_000_300, 1_600_000_360];

function parquet(codec: 'UNCOMPRESSED' | 'SNAPPY' | 'GZIP', rowGroupSize: number, user: (string | null)[] = users): ArrayBuffer {
  return parquetWriteBuffer({
    columnData: [
      { name: 'user', data: user, type: 'STRING' },
      { name: 'item', data: items, type: 'STRING' },
      { name: 'value', data: Float64Array.from(values), type: 'DOUBLE' },
      { name: 'timestamp', data: times.map((t) => new Date(t * 1000)), type: 'TIMESTAMP' },
      { name: 'count', data: BigInt64Array.from(values.map(BigInt)), type: 'INT64' },
    ],
    codec,
    compressors: { GZIP: (bytes: Uint8Array) => new Uint8Array(gzipSync(bytes)) },
    rowGroupSize,
  });
}

describe('Parquet files', () => {
  it.each(['UNCOMPRESSED', 'SNAPPY', 'GZIP'] as const)('%s pages in several row groups read as the same interactions as CSV', async (codec) => {
    const dir = await tempDir();
    const path = join(dir, `data.${codec}.parquet`);
    await writeFile(path, Buffer.from(parquet(codec, 3)));
    const csv = join(dir, 'data.csv');
    await writeFile(csv, 'user,item,value,timestamp\n' + users.map((u, i) => `${u},${items[i]},${values[i]},${times[i]}`).join('\n') + '\n');
    const fromCsv = await Interactions.fromFile(csv, { columns: { user: 'user', item: 'item', value: 'value', timestamp: 'timestamp' } });
    same(await Interactions.fromFile(path), fromCsv); // default columns: user, item, value, timestamp by name
    const byPosition = await Interactions.fromFile(path, { columns: { user: 0, item: 1, value: 4 } });
    expect(byPosition.itemsOf('u1')).toEqual([{ item: 'a', value: 1 }, { item: 'b', value: 7 }, { item: 'c', value: 3 }]);
    const filtered = await Interactions.fromFile(path, { columns: { user: 'user', item: 'item' }, where: { count: { gte: 4 } } });
    expect(filtered.size).toBe(4);
    expect(filtered.filteredLines).toBe(3);
  });

  it('a null id is an error naming its row, or skipped with skipInvalid', async () => {
    const dir = await tempDir();
    const path = join(dir, 'nulls.parquet');
    await writeFile(path, Buffer.from(parquet('SNAPPY', 2, ['u1', 'u2', null, 'u3', 'u2', 'u4', 'u1'])));
    await expect(Interactions.fromFile(path)).rejects.toMatchObject({ code: 'ERR_AFFINITY_PARSE', message: `${path}: row 3: no user (skipInvalid skips such rows)` });
    const read = await Interactions.fromFile(path, { skipInvalid: true });
    expect(read.skippedLines).toBe(1);
    expect(read.size).toBe(6);
    // pandas writes a missing number as NaN: it reads as an empty field, like a null.
    const nan = join(dir, 'nan.parquet');
    await writeFile(nan, Buffer.from(parquetWriteBuffer({ columnData: [{ name: 'customer', data: Float64Array.from([17850, NaN, 13047]) }, { name: 'item', data: ['a', 'b', 'c'] }] })));
    const ids = await Interactions.fromFile(nan, { columns: { user: 'customer', item: 'item' }, where: { customer: { empty: false } } });
    expect(ids.users.ids).toEqual(['17850', '13047']);
    expect(ids.filteredLines).toBe(1);
  });

  it('an unknown column lists the columns there are; a truncated file is ERR_AFFINITY_PARSE; a missing one ERR_AFFINITY_IO', async () => {
    const dir = await tempDir();
    const path = join(dir, 'data.parquet');
    await writeFile(path, Buffer.from(parquet('SNAPPY', 3)));
    await expect(Interactions.fromFile(path, { columns: { user: 'usr', item: 'item' } })).rejects.toMatchObject({
      code: 'ERR_AFFINITY_PARSE',
      message: expect.stringMatching(/no column "usr" for user \(the header has user, item, value, timestamp, count; did you mean "user"\?\)/),
    });
    await expect(Interactions.fromFile(path, { columns: { user: 0, item: 9 } })).rejects.toMatchObject({ code: 'ERR_AFFINITY_PARSE', message: expect.stringContaining('no column 9 for item') });
    const bytes = await readFile(path);
    const cut = join(dir, 'cut.parquet');
    await writeFile(cut, bytes.subarray(0, bytes.length - 40));
    await expect(Interactions.fromFile(cut)).rejects.toMatchObject({ code: 'ERR_AFFINITY_PARSE', message: expect.stringContaining(`${cut}: not a readable Parquet file`) });
    const garbage = join(dir, 'garbage.parquet');
    await writeFile(garbage, Buffer.concat([Buffer.from('PAR1'), Buffer.alloc(100, 7), Buffer.from('PAR1')]));
    await expect(Interactions.fromFile(garbage)).rejects.toMatchObject({ code: 'ERR_AFFINITY_PARSE' });
    await expect(Transactions.fromFile(join(dir, 'none.parquet'), { columns: { customer: 0, item: 1, time: 3 } })).rejects.toMatchObject({ code: 'ERR_AFFINITY_IO' });
  });
});

describe('Arrow IPC files', () => {
  function table(): arrow.Table {
    return new arrow.Table({
      customer: arrow.vectorFromArray(['c1', 'c2', null, 'c1'], new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32())),
      sku: arrow.vectorFromArray(['x', 'y', 'x', 'z'], new arrow.Utf8()),
      when: arrow.makeVector({ type: new arrow.TimestampNanosecond(), data: BigInt64Array.from([1_600_000_000_000_000_000n, 1_600_000_060_500_000_000n, 0n, 1_600_000_120_000_000_000n]) }),
      spend: arrow.makeVector(Float64Array.from([9.5, NaN, 1, 2.25])),
    });
  }

  it.each(['file', 'stream'] as const)('the %s format: dictionary strings, nullable values, nanosecond times', async (layout) => {
    const dir = await tempDir();
    const path = join(dir, `data.${layout === 'file' ? 'arrow' : 'arrows'}`);
    await writeFile(path, arrow.tableToIPC(table(), layout));
    const tx = await Transactions.fromFile(path, { columns: { customer: 'customer', item: 'sku', time: 'when', amount: 'spend' }, skipInvalid: true });
    // Row 2's spend is NaN (missing) and row 3 has no customer: both skipped, as empty CSV fields are.
    expect(tx.skipped).toBe(2);
    expect(tx.customers.ids).toEqual(['c1']);
    expect(Array.from(tx.time)).toEqual([1_600_000_000, 1_600_000_120]);
    expect(Array.from(tx.amount)).toEqual([9.5, 2.25]);
    const data = await Interactions.fromFile(path, { columns: { user: 'customer', item: 'sku' }, skipInvalid: true });
    expect(data.size).toBe(3);
    await expect(Interactions.fromFile(path, { columns: { user: 'customer', item: 'sku' } })).rejects.toMatchObject({ message: `${path}: row 3: no user (skipInvalid skips such rows)` });
  });

  it('a damaged Arrow file is ERR_AFFINITY_PARSE naming it', async () => {
    const dir = await tempDir();
    const path = join(dir, 'bad.arrow');
    const bytes = arrow.tableToIPC(table(), 'file');
    await writeFile(path, Buffer.concat([Buffer.from(bytes.subarray(0, 8)), Buffer.alloc(64, 0xab)]));
    await expect(Interactions.fromFile(path, { columns: { user: 0, item: 1 } })).rejects.toMatchObject({ code: 'ERR_AFFINITY_PARSE', message: expect.stringContaining(path) });
  });
});
