import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm, writeFile, readdir } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Interactions, encodeNpy, parseNpy } from '../src/index.js';
import { randomInteractions } from './helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'affinity-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('Interactions.fromArrays', () => {
  it('maps string ids to dense indices in first-seen order and builds sorted CSR', async () => {
    const d = await Interactions.fromArrays({ users: ['bob', 'amy', 'bob'], items: ['z', 'y', 'a'], values: [1, 2, 3] });
    expect(d.users.ids).toEqual(['bob', 'amy']);
    expect(d.items.ids).toEqual(['z', 'y', 'a']);
    expect(Array.from(d.csr.indptr)).toEqual([0, 2, 3]);
    expect(Array.from(d.csr.indices)).toEqual([0, 2, 1]);
    expect(Array.from(d.csr.data)).toEqual([1, 3, 2]);
    expect(d.itemsOf('bob')).toEqual([{ item: 'z', value: 1 }, { item: 'a', value: 3 }]);
    expect(d.users.indexOf('amy')).toBe(1);
    expect(() => d.users.indexOf('carl')).toThrow(expect.objectContaining({ code: 'ERR_AFFINITY_UNKNOWN_ID' }));
  });

  it('merges duplicates by sum, max or last, with timestamps', async () => {
    const input = { users: [1, 1, 1, 2], items: [9, 9, 9, 9], values: [2, 5, 1, 4], timestamps: [10, 30, 20, 5] };
    const sum = await Interactions.fromArrays(input);
    expect(Array.from(sum.csr.data)).toEqual([8, 4]);
    expect(Array.from(sum.csr.timestamps!)).toEqual([30, 5]);
    const max = await Interactions.fromArrays(input, { duplicates: 'max' });
    expect(Array.from(max.csr.data)).toEqual([5, 4]);
    const last = await Interactions.fromArrays(input, { duplicates: 'last' });
    expect(Array.from(last.csr.data)).toEqual([1, 4]);
    expect(Array.from(last.csr.timestamps!)).toEqual([20, 5]);
    const dates = await Interactions.fromArrays({ users: ['a'], items: ['b'], timestamps: [new Date(1_000_000)] });
    expect(dates.csr.timestamps![0]).toBe(1000);
  });

  it('rejects bad input with codes', async () => {
    await expect(Interactions.fromArrays({ users: ['a'], items: ['x', 'y'] })).rejects.toMatchObject({ code: 'ERR_AFFINITY_DIM_MISMATCH' });
    await expect(Interactions.fromArrays({ users: ['a'], items: ['x'], values: [NaN] })).rejects.toMatchObject({ code: 'ERR_AFFINITY_BAD_INPUT' });
    await expect(Interactions.fromArrays({ users: ['a'], items: ['x'], values: [Infinity] })).rejects.toMatchObject({ code: 'ERR_AFFINITY_BAD_INPUT' });
    await expect(Interactions.fromArrays({ users: ['a'], items: ['x'], values: [1e39] })).rejects.toMatchObject({ code: 'ERR_AFFINITY_BAD_INPUT' });
    await expect(Interactions.fromArrays({ users: [null as unknown as string], items: ['x'] })).rejects.toMatchObject({ code: 'ERR_AFFINITY_BAD_INPUT' });
    await expect(Interactions.fromArrays({ users: [NaN], items: ['x'] })).rejects.toMatchObject({ code: 'ERR_AFFINITY_BAD_INPUT' });
    await expect(Interactions.fromArrays({ users: ['a'], items: ['x'], timestamps: [NaN] })).rejects.toMatchObject({ code: 'ERR_AFFINITY_BAD_INPUT' });
    await expect(Interactions.fromArrays({ users: ['a'], items: ['x'] }, { duplicates: 'min' as 'sum' })).rejects.toMatchObject({ code: 'ERR_AFFINITY_BAD_INPUT' });
    await expect(Interactions.fromArrays(null as never)).rejects.toMatchObject({ code: 'ERR_AFFINITY_BAD_INPUT' });
    await expect(Interactions.fromArrays({ users: 'ab' as never, items: 'cd' as never })).rejects.toMatchObject({ code: 'ERR_AFFINITY_BAD_INPUT' });
    await expect(Interactions.fromIndices({ rows: Int32Array.of(5), cols: Int32Array.of(0), shape: [2, 2] })).rejects.toMatchObject({ code: 'ERR_AFFINITY_BAD_INPUT' });
    await expect(Interactions.fromIndices({ rows: Int32Array.of(-1), cols: Int32Array.of(0), shape: [2, 2] })).rejects.toMatchObject({ code: 'ERR_AFFINITY_BAD_INPUT' });
    await expect(Interactions.fromIndices({ rows: Int32Array.of(0), cols: Int32Array.of(0), shape: [-1, 2] })).rejects.toMatchObject({ code: 'ERR_AFFINITY_BAD_INPUT' });
  });

  it('builds the CSC (items x users) natively', async () => {
    const d = await randomInteractions({ users: 30, items: 20, density: 0.2, seed: 6 });
    const csc = await d.toCSC();
    expect(csc.rows).toBe(20);
    const pairs = new Set<string>();
    for (let i = 0; i < csc.rows; i++)
      for (let p = csc.indptr[i]; p < csc.indptr[i + 1]; p++) pairs.add(`${csc.indices[p]}:${i}:${csc.data[p]}`);
    const want = new Set<string>();
    for (let u = 0; u < d.csr.rows; u++)
      for (let p = d.csr.indptr[u]; p < d.csr.indptr[u + 1]; p++) want.add(`${u}:${d.csr.indices[p]}:${d.csr.data[p]}`);
    expect(pairs).toEqual(want);
    expect(await d.toCSC()).toBe(csc);
  });

  it('accepts an empty data set', async () => {
    const d = await Interactions.fromArrays({ users: [], items: [] });
    expect(d.size).toBe(0);
    expect(d.userCount).toBe(0);
  });
});

describe('item popularity', () => {
  it('itemCounts and itemsByPopularity match a plain count and sort', async () => {
    const data = await randomInteractions({ users: 60, items: 90, density: 0.2, seed: 12 });
    const counts = new Array<number>(90).fill(0);
    for (let u = 0; u < 60; u++) for (const { item } of data.itemsOf(u)) counts[item as number]++;
    expect(Array.from(data.itemCounts())).toEqual(counts);
    const order = counts.map((_, i) => i).sort((a, b) => counts[b] - counts[a] || a - b);
    expect(Array.from(data.itemsByPopularity())).toEqual(order);
    expect(new Set(order.map((i) => counts[i])).size).toBeLessThan(90); // ties exist, so their order is tested
  });
});

describe('Interactions.fromCSR', () => {
  it('validates and canonicalises a caller CSR (unsorted rows, duplicates)', async () => {
    const d = await Interactions.fromCSR({ indptr: [0, 3, 3, 4], indices: [2, 0, 2], data: [1, 2, 3], shape: [3, 3] } as never).catch((e) => e);
    expect(d).toMatchObject({ code: 'ERR_AFFINITY_DIM_MISMATCH' }); // indptr says 4 entries, 3 given
    const ok = await Interactions.fromCSR({ indptr: [0, 3, 3, 4], indices: [2, 0, 2, 1], data: [1, 2, 3, 4], shape: [3, 3] });
    expect(Array.from(ok.csr.indptr)).toEqual([0, 2, 2, 3]);
    expect(Array.from(ok.csr.indices)).toEqual([0, 2, 1]);
    expect(Array.from(ok.csr.data)).toEqual([2, 4, 4]);
  });

  it('rejects malformed CSR', async () => {
    const bad = [
      { indptr: [0, 2, 1], indices: [0, 1], data: [1, 1], shape: [2, 2] },
      { indptr: [1, 2, 2], indices: [0, 1], data: [1, 1], shape: [2, 2] },
      { indptr: [0, 1, 2], indices: [0, 7], data: [1, 1], shape: [2, 2] },
      { indptr: [0, 1, 2], indices: [0, 1], data: [1, NaN], shape: [2, 2] },
      { indptr: [0, 1], indices: [0], data: [1], shape: [2, 2] },
      { indptr: [0, 1, 2], indices: [0, 1.5], data: [1, 1], shape: [2, 2] },
    ];
    for (const b of bad) await expect(Interactions.fromCSR(b as never)).rejects.toHaveProperty('code');
  });
});

describe('files', () => {
  it('reads CSV with a header by column name, quoted fields and CRLF', async () => {
    const path = join(dir, 'a.csv');
    await writeFile(path, 'customer,sku,qty,when\r\n"c,1",A,2,2024-01-02 03:04:05\r\nc2,"B ""x""",1.5,1700000000\r\n\r\nc2,A,1,2024-01-02T00:00:00Z\r\n');
    const d = await Interactions.fromFile(path, { columns: { user: 'customer', item: 'sku', value: 'qty', timestamp: 'when' } });
    expect(d.users.ids).toEqual(['c,1', 'c2']);
    expect(d.items.ids).toEqual(['A', 'B "x"']);
    expect(d.itemsOf('c2')).toEqual([{ item: 'A', value: 1 }, { item: 'B "x"', value: 1.5 }]);
    expect(d.csr.timestamps![0]).toBe(Date.UTC(2024, 0, 2, 3, 4, 5) / 1000);
  });

  it('reads gzip TSV without a header by position, in chunks that split lines', async () => {
    const lines = Array.from({ length: 50_000 }, (_, i) => `u${i % 997}\ti${(i * 31) % 1013}\t${(i % 5) + 1}\t${800000000 + i}`);
    const path = join(dir, 'b.tsv.gz');
    await writeFile(path, gzipSync(lines.join('\n')));
    const d = await Interactions.fromFile(path, { columns: { user: 0, item: 1, value: 2, timestamp: 3 }, duplicates: 'sum' });
    const plain = await Interactions.fromArrays({
      users: lines.map((l) => l.split('\t')[0]),
      items: lines.map((l) => l.split('\t')[1]),
      values: lines.map((l) => Number(l.split('\t')[2])),
    });
    expect(d.size).toBe(plain.size);
    expect(d.users.ids).toEqual(plain.users.ids);
    expect(Array.from(d.csr.data)).toEqual(Array.from(plain.csr.data));
  });

  it('reports the file and line of a parse error', async () => {
    const path = join(dir, 'bad.csv');
    await writeFile(path, 'user,item,value\na,b,1\nc,d,oops\n');
    await expect(Interactions.fromFile(path, { columns: { user: 'user', item: 'item', value: 'value' } })).rejects.toMatchObject({
      code: 'ERR_AFFINITY_PARSE',
      message: expect.stringMatching(/bad\.csv: line 3: value 'oops'/),
    });
    await writeFile(path, 'user,item\na\n');
    await expect(Interactions.fromFile(path, { columns: { user: 'user', item: 'item' } })).rejects.toThrow(/line 2: expected at least 2 fields/);
    await writeFile(path, 'user,item\na,"unterminated\n');
    await expect(Interactions.fromFile(path, { columns: { user: 'user', item: 'item' } })).rejects.toThrow(/not closed/);
    await expect(Interactions.fromFile(path, { columns: { user: 'nope', item: 'item' } })).rejects.toThrow(/no column 'nope'/);
    await expect(Interactions.fromFile(join(dir, 'missing.csv'))).rejects.toMatchObject({ code: 'ERR_AFFINITY_IO' });
    await writeFile(join(dir, 'broken.csv.gz'), Buffer.from('not gzip at all'));
    await expect(Interactions.fromFile(join(dir, 'broken.csv.gz'))).rejects.toMatchObject({ code: 'ERR_AFFINITY_PARSE' });
  });

  it('skips invalid lines when asked, and counts them', async () => {
    const path = join(dir, 'skip.csv');
    await writeFile(path, 'user,item,value\na,b,1\n,d,1\nc,d,x\ne,f,2\n');
    const d = await Interactions.fromFile(path, { columns: { user: 'user', item: 'item', value: 'value' }, skipInvalid: true });
    expect(d.size).toBe(2);
    expect(d.skippedLines).toBe(2);
  });

  it('round-trips through .npy and CSV, writing atomically', async () => {
    const d = await randomInteractions({ users: 40, items: 30, density: 0.2, seed: 12, values: 'real' });
    await d.saveNpy(join(dir, 'npy'));
    expect((await readdir(join(dir, 'npy'))).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const back = await Interactions.loadNpy(join(dir, 'npy'));
    expect(Array.from(back.csr.indptr)).toEqual(Array.from(d.csr.indptr));
    expect(Array.from(back.csr.indices)).toEqual(Array.from(d.csr.indices));
    expect(Array.from(back.csr.data)).toEqual(Array.from(d.csr.data));
    expect(back.users.ids).toEqual(d.users.ids);
    await d.saveCsv(join(dir, 'out.csv'));
    const csv = await Interactions.fromFile(join(dir, 'out.csv'), { columns: { user: 'user', item: 'item', value: 'value' } });
    // CSV ids come back as strings, indexed in first-seen order: compare (user, item) -> value.
    const pairs = (x: Interactions) =>
      new Map(x.users.ids.flatMap((u) => x.itemsOf(u).map((r) => [`${u}|${r.item}`, r.value] as const)));
    expect(csv.size).toBe(d.size);
    expect(pairs(csv)).toEqual(pairs(d));
  });

  it('parses NumPy headers and rejects broken files', () => {
    const a = Float64Array.of(1.5, -2, 3);
    expect(Array.from(parseNpy(encodeNpy(a)) as Float64Array)).toEqual([1.5, -2, 3]);
    const i64 = parseNpy(encodeNpy(BigInt64Array.of(7n, 9n)));
    expect(Array.from(i64 as BigInt64Array)).toEqual([7n, 9n]);
    const good = encodeNpy(Int32Array.of(1, 2, 3));
    expect(() => parseNpy(good.subarray(0, good.length - 2))).toThrow(expect.objectContaining({ code: 'ERR_AFFINITY_PARSE' }));
    expect(() => parseNpy(Buffer.from('hello world'))).toThrow(/magic/);
    const bigEndian = Buffer.from(good.toString('latin1').replace('<i4', '>i4'), 'latin1');
    expect(() => parseNpy(bigEndian)).toThrow(/big-endian/);
  });
});
