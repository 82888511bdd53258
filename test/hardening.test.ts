// Regressions of the abuse campaign (issue 13), each made small: files that killed or hung the process,
// ids and numbers that passed validation and then failed, overload that never answered 503, error shapes.
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALS, ContentRecommender, Interactions, ItemKNN, loadModel } from '../src/index.js';
import { writeModelFile, type ModelParts } from '../src/io/modelfile.js';
import { buildApp, ModelRegistry } from '../src/server/index.js';
import { randomInteractions } from './helpers.js';

const code = (c: string) => expect.objectContaining({ code: c });
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'affinity-hardening-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('files that used to kill or hang the process', () => {
  it('a model file of 2 GiB is read in parts (no abort) and rejected by its checksum', async () => {
    const path = join(dir, 'huge.affinity');
    const size = 2 ** 31 + 4096;
    const fd = openSync(path, 'w');
    const head = Buffer.alloc(64);
    head.write('AFFINITY', 0, 'latin1');
    head.writeUInt32LE(1, 8);
    writeSync(fd, head, 0, 64, 0);
    writeSync(fd, Buffer.from('\0'.repeat(8) + 'AFFEND\0\0', 'latin1'), 0, 16, size - 16); // sparse: no disk used
    closeSync(fd);
    await expect(loadModel(path, { mmap: false })).rejects.toThrow(code('ERR_AFFINITY_CORRUPT_FILE'));
    await rm(path);
  }, 120_000);

  it('a FIFO at a model path is refused at once, mapped or read', async () => {
    const path = join(dir, 'fifo.affinity');
    execFileSync('mkfifo', [path]);
    for (const mmap of [true, false]) await expect(loadModel(path, { mmap })).rejects.toThrow(expect.objectContaining({ code: 'ERR_AFFINITY_IO', message: expect.stringMatching(/not a regular file/) }));
    await expect(loadModel(dir)).rejects.toThrow(code('ERR_AFFINITY_IO')); // a directory too
  });

  it('crafted files with a valid checksum are rejected before they can do harm', async () => {
    const data = await randomInteractions({ users: 20, items: 12, density: 0.3, seed: 3 });
    const good = (await new ALS({ factors: 4, iterations: 1 }).fit(data)).toParts();
    const craft = async (edit: (p: ModelParts) => void) => {
      const parts: ModelParts = structuredClone(good);
      edit(parts);
      const path = join(dir, 'crafted.affinity');
      await writeModelFile(path, parts);
      return loadModel(path);
    };
    const corrupt = (why: RegExp) => expect.objectContaining({ code: 'ERR_AFFINITY_CORRUPT_FILE', message: expect.stringMatching(why) });
    await expect(craft((p) => ((p.header.ids as { users: unknown[] }).users[0] = null))).rejects.toThrow(corrupt(/user id 0/));
    await expect(craft((p) => ((p.header.ids as { users: unknown[] }).users[1] = { a: 1 }))).rejects.toThrow(corrupt(/user id 1/));
    await expect(craft((p) => ((p.header.ids as { items: unknown[] }).items[0] = 'x'.repeat(2000)))).rejects.toThrow(corrupt(/at most 1024/));
    await expect(craft((p) => (p.header.options = null))).rejects.toThrow(corrupt(/options/));
    await expect(craft((p) => (p.header.users = 10_000_000))).rejects.toThrow(corrupt(/interactions.indptr has 21 entries, expected 10000001/));
    await expect(craft((p) => ((p.header.ids as { users: unknown[] }).users = [1, 2]))).rejects.toThrow(corrupt(/id maps do not match/));
    // Dimensions that do not match the arrays are refused before the id lists are parsed (they can be
    // most of a crafted file): no JSON.parse sees the 2M ids.
    const parse = JSON.parse;
    let longest = 0;
    JSON.parse = ((text: string, reviver?: never) => ((longest = Math.max(longest, text.length)), parse(text, reviver))) as typeof JSON.parse;
    try {
      await expect(craft((p) => ((p.header.ids as { users: unknown[] }).users = Array.from({ length: 2_000_000 }, (_, i) => `user-${i}`), (p.header.users = 2_000_000)))).rejects.toThrow(
        corrupt(/interactions.indptr has 21 entries, expected 2000001/),
      );
    } finally {
      JSON.parse = parse;
    }
    expect(longest).toBeLessThan(100_000);
    await expect(
      craft((p) => {
        const f = new Float32Array(p.arrays.userFactors as Float32Array);
        f[3] = 1e20;
        p.arrays.userFactors = f;
      }),
    ).rejects.toThrow(corrupt(/userFactors\[3\]/));
    await expect(
      craft((p) => {
        // Swap the first two columns of a row with two entries: unsorted, then repeated.
        const indptr = p.arrays['interactions.indptr'] as Int32Array;
        const indices = new Int32Array(p.arrays['interactions.indices'] as Int32Array);
        const row = Array.from({ length: 20 }, (_, r) => r).find((r) => indptr[r + 1] - indptr[r] >= 2)!;
        [indices[indptr[row]], indices[indptr[row] + 1]] = [indices[indptr[row] + 1], indices[indptr[row]]];
        p.arrays['interactions.indices'] = indices;
      }),
    ).rejects.toThrow(corrupt(/unsorted or repeated/));
    // A JSON null header and a __proto__ key: written by hand around the codec.
    await expect(craft((p) => (p.header.__proto__ = { polluted: true } as never))).resolves.toBeDefined(); // a plain key of the writer's object: no effect
    const raw = async (json: string) => {
      const { readFile } = await import('node:fs/promises');
      const path = join(dir, 'crafted.affinity');
      await writeModelFile(path, good);
      const bytes = await readFile(path);
      const at = Number(bytes.readBigUInt64LE(16));
      const body = Buffer.concat([bytes.subarray(0, at), Buffer.from(json)]);
      body.writeBigUInt64LE(BigInt(json.length), 24);
      const { crc32 } = await import('node:zlib');
      const trailer = Buffer.alloc(16);
      trailer.writeUInt32LE(crc32(body) >>> 0, 0);
      trailer.write('AFFEND\0\0', 8, 'latin1');
      await writeFile(path, Buffer.concat([body, trailer]));
      return loadModel(path);
    };
    await expect(raw('null')).rejects.toThrow(corrupt(/not a JSON object/));
    await expect(raw('{"kind":"als","__proto__":{"x":1},"arrays":{}}')).rejects.toThrow(corrupt(/__proto__/));
  });

  it('temporary files of killed saves are removed once stale; a fresh one (a save in progress) is kept', async () => {
    const data = await randomInteractions({ users: 10, items: 8, density: 0.4, seed: 4 });
    const model = await new ItemKNN({ k: 3 }).fit(data);
    const path = join(dir, 'kept.affinity');
    const stale = join(dir, '.kept.affinity.0123456789ab.tmp');
    const fresh = join(dir, '.kept.affinity.ba9876543210.tmp');
    const other = join(dir, '.other.affinity.0123456789ab.tmp');
    for (const f of [stale, fresh, other]) await writeFile(f, 'half a model');
    const old = new Date(Date.now() - 3600_000);
    await utimes(stale, old, old);
    await utimes(other, old, old);
    await model.save(path);
    const names = await readdir(dir);
    expect(names).not.toContain('.kept.affinity.0123456789ab.tmp');
    expect(names).toContain('.kept.affinity.ba9876543210.tmp');
    expect(names).toContain('.other.affinity.0123456789ab.tmp'); // another file's: not ours to judge
    expect((await stat(path)).size).toBeGreaterThan(0);
  });
});

describe('ids and numbers the engine accepts, the server answers', () => {
  const url = 'https://shop.example/products/' + 'tea-'.repeat(63) + 'x'; // 283 characters
  let app: Awaited<ReturnType<typeof buildApp>>;
  beforeAll(async () => {
    const data = await Interactions.fromArrays({ users: ['a', 'a', 'b', 'b', 'c'], items: [url, 'mug', url, 'pot', 'mug'] });
    const registry = new ModelRegistry('knn');
    registry.add('knn', await new ItemKNN({ k: 5 }).fit(data));
    registry.add('als', await new ALS({ factors: 4, iterations: 3 }).fit(data));
    app = await buildApp({ registry, docs: false });
  });
  afterAll(() => app.close());

  it('one id rule: empty and over-long ids are refused where data is built', async () => {
    await expect(Interactions.fromArrays({ users: [''], items: ['x'] })).rejects.toThrow(code('ERR_AFFINITY_BAD_INPUT'));
    await expect(Interactions.fromArrays({ users: ['u'], items: ['x'.repeat(1025)] })).rejects.toThrow(code('ERR_AFFINITY_BAD_INPUT'));
    const csv = join(dir, 'ids.csv');
    await writeFile(csv, `u1,${'y'.repeat(1025)},1\n`);
    await expect(Interactions.fromFile(csv)).rejects.toThrow(expect.objectContaining({ code: 'ERR_AFFINITY_BAD_INPUT', message: expect.stringContaining(csv) }));
  });

  it('CSV quirks: a BOM is stripped, invalid UTF-8 and impossible dates are errors naming file and line', async () => {
    const csv = join(dir, 'quirks.csv');
    await writeFile(csv, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('customer,product,when\nc1,p1,2024-02-29\n')]));
    const data = await Interactions.fromFile(csv, { columns: { user: 'customer', item: 'product', timestamp: 'when' } });
    expect(data.users.ids).toEqual(['c1']);
    await writeFile(csv, Buffer.concat([Buffer.from('c1,p1,1\nc2,'), Buffer.from([0x70, 0xff]), Buffer.from(',1\n')]));
    await expect(Interactions.fromFile(csv)).rejects.toThrow(expect.objectContaining({ code: 'ERR_AFFINITY_PARSE', message: expect.stringMatching(/quirks\.csv: line 2: the item id is not valid UTF-8/) }));
    await writeFile(csv, 'u,i,t\nc1,p1,2024-02-31\n');
    await expect(Interactions.fromFile(csv, { columns: { user: 'u', item: 'i', timestamp: 't' } })).rejects.toThrow(expect.objectContaining({ message: expect.stringMatching(/line 2: timestamp '2024-02-31'/) }));
    await writeFile(csv, 'u,i,t\nc1,p1,12345678901234567890\n');
    await expect(Interactions.fromFile(csv, { columns: { user: 'u', item: 'i', timestamp: 't' } })).rejects.toThrow(code('ERR_AFFINITY_PARSE'));
  });

  it('long ids (a product URL) are answered on every route, not a 500', async () => {
    const post = (u: string, body: object) => app.inject({ method: 'POST', url: u, payload: body });
    expect((await post('/v1/similar/items', { item: url })).statusCode).toBe(200);
    expect((await post('/v1/recommend', { user: 'nobody', fallback: 'popular' })).json().items.map((i: { item: string }) => i.item)).toContain(url);
    expect((await post('/v1/recommend', { user: 'c', filterSeen: false })).statusCode).toBe(200);
    expect((await app.inject({ url: `/v1/segments/${encodeURIComponent('z'.repeat(300))}` })).statusCode).toBe(404); // no segments model: 404, not 414
  });

  it('extreme values are a 4xx with a code, never a 500', async () => {
    const post = (u: string, body: object) => app.inject({ method: 'POST', url: u, payload: body });
    const anonymous = await post('/v1/recommend/anonymous', { model: 'als', items: ['mug', 'pot'], values: [1e8, 1] });
    expect(anonymous.statusCode).toBe(400);
    const fine = await post('/v1/recommend/anonymous', { model: 'als', items: ['mug', 'pot'], values: [1e6, 1] });
    expect([200, 422]).toContain(fine.statusCode);
    const als = (await app.inject({ url: '/v1/models' })).json();
    expect(als.models).toHaveLength(2);
    // The library: a failed factorization is the input's fault, not an internal error.
    const model = new ALS({ factors: 4, iterations: 3 });
    await model.fit(await Interactions.fromArrays({ users: ['a', 'b', 'b'], items: ['x', 'x', 'y'] }));
    for (const values of [[1e30, 1], [3e38, 3e38]]) {
      // Either an answer with finite scores or BAD_INPUT; each outcome is checked.
      const outcome = (() => {
        try {
          return model.recommendFor({ items: ['x', 'y'], values });
        } catch (err) {
          return err;
        }
      })();
      if (Array.isArray(outcome)) expect(outcome.every((r) => Number.isFinite(r.score))).toBe(true);
      else expect(outcome).toMatchObject({ code: 'ERR_AFFINITY_BAD_INPUT' });
    }
    expect(() => model.recommendFor({ items: ['x'], values: [1e39] })).toThrow(code('ERR_AFFINITY_BAD_INPUT'));
    const content = await new ContentRecommender().fit([
      { id: 'x', text: 'green tea' },
      { id: 'y', text: 'black tea' },
      { id: 'z', text: 'coffee beans' },
    ]);
    const recs = content.recommendFor({ items: ['x', 'y'], values: [3e38, 3e38] });
    for (const r of recs) expect(Number.isFinite(r.score)).toBe(true);
    expect(() => content.recommendFor({ items: ['x'], values: [1e39] })).toThrow(code('ERR_AFFINITY_BAD_INPUT'));
  });
});

describe('overload and error shapes', () => {
  it('large batches hold a cost until their reply is written; past the budget: 503 with Retry-After', async () => {
    const data = await randomInteractions({ users: 60, items: 40, density: 0.2, seed: 9 });
    const model = await new ALS({ factors: 4, iterations: 1 }).fit(data);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const real = model.recommendBatch.bind(model);
    model.recommendBatch = async (users, options) => (await held, real(users, options));
    const registry = new ModelRegistry();
    registry.add('als', model);
    const app = await buildApp({ registry, docs: false, maxInFlightCost: 1000 });
    const batch = { method: 'POST' as const, url: '/v1/recommend/batch', payload: { users: Array.from({ length: 60 }, (_, i) => i), k: 10 } };
    const first = app.inject(batch); // 600 slots
    await new Promise((r) => setTimeout(r, 20));
    const second = await app.inject(batch);
    expect(second.statusCode).toBe(503);
    expect(second.headers['retry-after']).toBe('1');
    expect(second.json().code).toBe('ERR_AFFINITY_BUSY');
    release();
    const done = await first;
    expect(done.statusCode).toBe(200);
    expect(done.json().results).toHaveLength(60); // streamed JSON, the schema's shape
    expect(done.json().results[0]).toEqual({ user: 0, items: expect.any(Array) });
    expect((await app.inject(batch)).statusCode).toBe(200); // the reservation ended with the reply
    await app.close();
  });

  it('a blocked event loop sheds load with 503, while liveness keeps answering', async () => {
    const app = await buildApp({ docs: false, pressure: { maxEventLoopDelay: 50 } });
    // under-pressure samples the mean event-loop delay once a second: hold the loop across a whole sample.
    const until = Date.now() + 1300;
    while (Date.now() < until);
    await new Promise((r) => setTimeout(r, 50)); // the overdue sample runs
    const busy = await app.inject({ url: '/v1/models' });
    expect(busy.statusCode).toBe(503);
    expect(busy.headers['retry-after']).toBe('1');
    expect(busy.json().code).toBe('ERR_AFFINITY_BUSY');
    expect((await app.inject({ url: '/health/live' })).statusCode).toBe(200);
    await app.close();
  });

  it('clients that never finish their body are answered 408 and dropped after requestTimeout', async () => {
    const app = await buildApp({ docs: false, requestTimeout: 1000 });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as { port: number }).port;
    const started = Date.now();
    const closed = await Promise.all(
      Array.from(
        { length: 200 },
        () =>
          new Promise<{ after: number; reply: string }>((resolve) => {
            let reply = '';
            const s = net.connect(port, '127.0.0.1', () => s.write('POST /v1/recommend HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"user":'));
            s.on('data', (d) => (reply += d));
            s.on('close', () => resolve({ after: Date.now() - started, reply }));
          }),
      ),
    );
    expect(Math.max(...closed.map((c) => c.after))).toBeLessThan(10_000); // was: held open for 600 s and more
    expect(closed[0].reply).toMatch(/^HTTP\/1.1 408/);
    expect(JSON.parse(closed[0].reply.slice(closed[0].reply.indexOf('{'))).code).toBe('ERR_HTTP_REQUEST_TIMEOUT');
    await app.close();
  });

  it('every rejection has the Fastify shape with a code: 404, 414, 431, parser errors, reload errors', async () => {
    const registry = new ModelRegistry();
    const path = join(dir, 'served.affinity');
    await (await new ItemKNN({ k: 3 }).fit(await randomInteractions({ users: 10, items: 8, density: 0.4, seed: 5 }))).save(path);
    await registry.load('m', path);
    const app = await buildApp({ registry, docs: false, adminToken: 't' });
    const notFound = await app.inject({ url: '/v1/nope' });
    expect(notFound.statusCode).toBe(404);
    expect(notFound.json()).toMatchObject({ statusCode: 404, code: 'FST_ERR_NOT_FOUND', error: 'Not Found' });
    const long = await app.inject({ url: `/v1/segments/${'x'.repeat(4000)}` });
    expect(long.statusCode).toBe(414);
    expect(long.json()).toMatchObject({ code: 'FST_ERR_MAX_PARAM_LENGTH', error: 'URI Too Long' });
    expect(long.body.length).toBeLessThan(300); // the URL is not echoed back
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as { port: number }).port;
    const raw = (text: string) =>
      new Promise<string>((resolve) => {
        let out = '';
        const s = net.connect(port, '127.0.0.1', () => s.write(text));
        s.on('data', (d) => (out += d));
        s.on('close', () => resolve(out));
        s.on('error', () => resolve(out));
      });
    const big = await raw(`GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(big).toMatch(/^HTTP\/1.1 431/);
    expect(JSON.parse(big.slice(big.indexOf('{')))).toMatchObject({ statusCode: 431, code: 'HPE_HEADER_OVERFLOW' });
    const garbage = await raw('NOT HTTP AT ALL\r\n\r\n');
    expect(garbage).toMatch(/^HTTP\/1.1 400/);
    expect(JSON.parse(garbage.slice(garbage.indexOf('{'))).code).toMatch(/^HPE_/);
    await rm(path);
    const reload = await app.inject({ method: 'POST', url: '/v1/models/m/reload', headers: { authorization: 'Bearer t' } });
    expect(reload.statusCode).toBe(422);
    expect(reload.json().code).toBe('ERR_AFFINITY_IO');
    expect(reload.json().message).not.toContain(dir); // no server paths in answers
    await app.close();
  });
});
