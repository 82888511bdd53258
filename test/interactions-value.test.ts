// Value transforms, row conditions, header and delimiter detection, and format errors when reading interactions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Interactions } from '../src/index.js';
import { generate } from '../src/data/synthetic.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'affinity-value-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const pairs = (d: Interactions) => {
  const out: Record<string, number> = {};
  for (let u = 0; u < d.userCount; u++) for (const { item, value } of d.itemsOf(d.users.ids[u])) out[`${d.users.ids[u]}:${item}`] = Number(value.toFixed(5));
  return out;
};
const input = { users: ['a', 'a', 'a', 'b', 'b'], items: ['x', 'x', 'y', 'x', 'z'], values: [2, 3, 0.5, 7, 1] };

describe('value transforms', () => {
  it('raw sums, binary keeps one, count counts rows, log1p damps the merged value', async () => {
    expect(pairs(await Interactions.fromArrays(input))).toEqual({ 'a:x': 5, 'a:y': 0.5, 'b:x': 7, 'b:z': 1 });
    expect(pairs(await Interactions.fromArrays(input, { value: 'binary' }))).toEqual({ 'a:x': 1, 'a:y': 1, 'b:x': 1, 'b:z': 1 });
    expect(pairs(await Interactions.fromArrays(input, { value: 'count' }))).toEqual({ 'a:x': 2, 'a:y': 1, 'b:x': 1, 'b:z': 1 });
    const log = pairs(await Interactions.fromArrays(input, { value: 'log1p' }));
    expect(log).toEqual({ 'a:x': Number(Math.log1p(5).toFixed(5)), 'a:y': Number(Math.log1p(0.5).toFixed(5)), 'b:x': Number(Math.log1p(7).toFixed(5)), 'b:z': Number(Math.log1p(1).toFixed(5)) });
    const csr = await Interactions.fromCSR({ indptr: [0, 2, 3], indices: [0, 0, 1], data: [4, 4, 9], shape: [2, 2] }, { value: 'count' });
    expect(Array.from(csr.csr.data)).toEqual([2, 1]);
  });

  it('rejects what has no meaning: unknown transforms, negative sums under log1p, a merge rule the transform overrides', async () => {
    await expect(Interactions.fromArrays(input, { value: 'sqrt' as 'raw' })).rejects.toMatchObject({ code: 'ERR_AFFINITY_BAD_INPUT' });
    await expect(Interactions.fromArrays({ ...input, values: [2, -3, 1, 1, 1] }, { value: 'log1p' })).rejects.toMatchObject({ code: 'ERR_AFFINITY_BAD_INPUT', message: expect.stringContaining('1 pairs are negative') });
    await expect(Interactions.fromArrays(input, { value: 'binary', duplicates: 'sum' })).rejects.toMatchObject({ code: 'ERR_AFFINITY_BAD_INPUT' });
    expect(pairs(await Interactions.fromArrays(input, { value: 'binary', duplicates: 'max' }))['a:x']).toBe(1);
  });
});

describe('reading files', () => {
  it('keeps the rows meeting `where`, counts the others, and applies the value transform', async () => {
    const path = join(dir, 'lines.csv');
    await writeFile(path, 'Invoice;Customer;Sku;Qty\n1;c1;p1;2\nC2;c1;p1;-2\n3;c2;p2;5\n4;;p2;1\n5;c2;p1;1\n');
    const d = await Interactions.fromFile(path, { columns: { user: 'Customer', item: 'Sku', value: 'Qty' }, where: { Invoice: { notStartsWith: 'C' }, Qty: { gt: 0 } }, skipInvalid: true });
    expect(pairs(d)).toEqual({ 'c1:p1': 2, 'c2:p2': 5, 'c2:p1': 1 });
    expect([d.filteredLines, d.skippedLines]).toEqual([1, 1]);
    const counted = await Interactions.fromFile(path, { columns: { user: 1, item: 2 }, header: true, where: { 3: { gt: 0 } }, skipInvalid: true, value: 'count' });
    expect(pairs(counted)).toEqual({ 'c1:p1': 1, 'c2:p2': 1, 'c2:p1': 1 });
    await expect(Interactions.fromFile(path, { columns: { user: 'Customer', item: 'Sku' }, where: { Qty: { gt: 100 } } })).rejects.toMatchObject({ code: 'ERR_AFFINITY_PARSE', message: expect.stringContaining('where left out all 5') });
    await expect(Interactions.fromFile(path, { columns: { user: 'Customr', item: 'Sku' }, where: {} })).rejects.toMatchObject({ message: expect.stringContaining('did you mean "Customer"') });
    await expect(Interactions.fromFile(path, { columns: { user: 'Customer', item: 'Sku' }, where: { Qty: { above: 1 } as never } })).rejects.toMatchObject({ code: 'ERR_AFFINITY_BAD_INPUT' });
  });

  it('reads what saveCsv (affinity generate --format csv) writes back without being told about the header', async () => {
    const data = await generate('small', 7);
    for (const name of ['generated.csv', 'generated.csv.gz']) {
      const path = join(dir, name);
      await data.saveCsv(join(dir, 'generated.csv'));
      if (name.endsWith('.gz')) await writeFile(path, gzipSync(await import('node:fs/promises').then((fs) => fs.readFile(join(dir, 'generated.csv')))));
      const back = await Interactions.fromFile(path);
      expect([back.userCount, back.itemCount, back.size]).toEqual([data.userCount, data.itemCount, data.size]);
      expect(Array.from(back.csr.data.subarray(0, 50))).toEqual(Array.from(data.csr.data.subarray(0, 50)));
    }
    // A headerless file keeps its first line.
    const plain = join(dir, 'plain.csv');
    await writeFile(plain, 'u1,i1,3\nu2,i1,1\n');
    expect((await Interactions.fromFile(plain)).size).toBe(2);
  });
});

describe('what a file is', () => {
  it('sniffs a ;-separated .csv, and says what to do when the header does not match', async () => {
    const semi = join(dir, 'semi.csv');
    await writeFile(semi, 'user;item;value\na;b;1\nc;d;2\n');
    expect((await Interactions.fromFile(semi, { columns: { user: 'user', item: 'item', value: 'value' } })).size).toBe(2);
    expect((await Interactions.fromFile(semi)).size).toBe(2); // header detected, delimiter sniffed
    await expect(Interactions.fromFile(semi, { delimiter: ',', columns: { user: 'user', item: 'item' } })).rejects.toMatchObject({
      code: 'ERR_AFFINITY_PARSE',
      message: expect.stringContaining('it looks ";"-separated: give delimiter'),
    });
    await expect(Interactions.fromFile(semi, { columns: { user: 'User', item: 'item' } })).rejects.toMatchObject({ message: expect.stringContaining('the header has user, item, value; did you mean "user"?') });
  });

  it('names formats it does not read instead of parsing them as text', async () => {
    const orc = join(dir, 'data.orc');
    await writeFile(orc, Buffer.from('ORC\0\0binary'));
    await expect(Interactions.fromFile(orc)).rejects.toMatchObject({ code: 'ERR_AFFINITY_BAD_INPUT', message: expect.stringContaining('.orc is not a format fromFile reads') });
    const parquet = join(dir, 'data.parquet');
    await writeFile(parquet, Buffer.from('PAR1\0\0binary'));
    await expect(Interactions.fromFile(parquet)).rejects.toMatchObject({ code: 'ERR_AFFINITY_PARSE', message: expect.stringContaining('not a readable Parquet file') });
    const disguised = join(dir, 'disguised.csv');
    await writeFile(disguised, Buffer.from('\0\0\0binary'));
    await expect(Interactions.fromFile(disguised)).rejects.toMatchObject({ code: 'ERR_AFFINITY_BAD_INPUT', message: expect.stringContaining('binary data') });
  });
});
