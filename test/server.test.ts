import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WithAffinity } from '../src/server/index.js';
import { ALS, BPR, EASE, Interactions, ItemKNN } from '../src/index.js';
import { buildApp } from '../src/server/app.js';
import { ModelRegistry } from '../src/server/registry.js';
import { tokenMatches } from '../src/server/admin.js';

let dir: string;
let app: WithAffinity;
let data: Interactions;
const TOKEN = 'secret-token';

async function shop(): Promise<Interactions> {
  const users: string[] = [];
  const items: string[] = [];
  for (let u = 0; u < 60; u++) for (let i = 0; i < 40; i++) if ((u * 7 + i * 3) % 11 < 3) (users.push(`u${u}`), items.push(`p${i}`));
  return Interactions.fromArrays({ users, items });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'affinity-server-'));
  data = await shop();
  await (await new ALS({ factors: 8, iterations: 3 }).fit(data)).save(join(dir, 'als.affinity'));
  await (await new ItemKNN({ k: 10 }).fit(data)).save(join(dir, 'knn.affinity'));
  app = await buildApp({ models: { als: join(dir, 'als.affinity'), knn: join(dir, 'knn.affinity') }, adminToken: TOKEN, docs: true });
});
afterAll(async () => {
  await app.close();
  await rm(dir, { recursive: true, force: true });
});

const post = (url: string, payload: unknown, headers: Record<string, string> = {}) => app.inject({ method: 'POST', url, payload: payload as object, headers });

describe('EASE and BPR model files, served like ALS', () => {
  it('recommend, batch, visitors, score, similar items and exact explanations', async () => {
    await (await new EASE({ lambda: 5 }).fit(data)).save(join(dir, 'ease.affinity'));
    await (await new BPR({ factors: 8, epochs: 10, threads: 1 }).fit(data)).save(join(dir, 'bpr.affinity'));
    const s = await buildApp({ models: { ease: join(dir, 'ease.affinity'), bpr: join(dir, 'bpr.affinity') }, docs: false, pressure: false });
    try {
      const call = (url: string, payload: object) => s.inject({ method: 'POST', url, payload });
      for (const model of ['ease', 'bpr']) {
        const r = await call('/v1/recommend', { model, user: 'u1', k: 3 });
        expect(r.statusCode, model).toBe(200);
        expect(r.json().items).toHaveLength(3);
        expect((await call('/v1/recommend/batch', { model, users: ['u1', 'ghost'], k: 2 })).json().unknown).toEqual(['ghost']);
        expect((await call('/v1/recommend/anonymous', { model, items: ['p1', 'p2'], k: 3 })).statusCode).toBe(200);
        expect((await call('/v1/score', { model, user: 'u1', items: ['p3'] })).statusCode).toBe(200);
        expect((await call('/v1/similar/items', { model, item: 'p1', k: 3 })).json().neighbors).toHaveLength(3);
        const top = r.json().items[0];
        const why = await call('/v1/explain', { model, user: 'u1', item: top.item, k: 5 });
        expect(why.statusCode, model).toBe(200);
        if (model === 'ease') expect(why.json().score).toBeCloseTo(top.score, 4);
      }
    } finally {
      await s.close();
    }
  });
});

describe('scoring endpoints', () => {
  it('recommend: ALS by default, KNN by name, with model name and version', async () => {
    const r = await post('/v1/recommend', { user: 'u1', k: 3 });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ model: 'als', version: 1, user: 'u1', fallback: false });
    expect(r.json().items).toHaveLength(3);
    const seen = new Set(data.itemsOf('u1').map((x) => x.item));
    expect(r.json().items.some((x: { item: string }) => seen.has(x.item))).toBe(false);
    const knn = await post('/v1/recommend', { model: 'knn', user: 'u1', k: 3, exclude: ['p0'], include: ['p0', 'p1', 'p2', 'p5', 'p9'] });
    expect(knn.json().model).toBe('knn');
    expect(knn.json().items.every((x: { item: string }) => ['p1', 'p2', 'p5', 'p9'].includes(x.item))).toBe(true);
  });

  it('concurrent plain requests are batched and answer exactly what single calls do', async () => {
    const model = app.affinity.registry.get('als').model as ALS;
    const users = Array.from({ length: 30 }, (_, i) => `u${i}`);
    const replies = await Promise.all(users.map((user, i) => post('/v1/recommend', { user, k: 1 + (i % 7) })));
    replies.forEach((r, i) => expect(r.json().items).toEqual(model.recommend(users[i], { k: 1 + (i % 7) })));
  });

  it('unknown users: 404 with a code, or most popular on request', async () => {
    const r = await post('/v1/recommend', { user: 'ghost' });
    expect(r.statusCode).toBe(404);
    expect(r.json()).toEqual({ statusCode: 404, code: 'ERR_AFFINITY_UNKNOWN_ID', error: 'Not Found', message: expect.stringContaining('ghost') });
    const f = await post('/v1/recommend', { user: 'ghost', k: 2, fallback: 'popular' });
    expect(f.statusCode).toBe(200);
    expect(f.json()).toMatchObject({ fallback: true });
    expect(f.json().items).toHaveLength(2);
    expect((await post('/v1/recommend', { model: 'nope', user: 'u1' })).json().code).toBe('ERR_AFFINITY_UNKNOWN_MODEL');
  });

  it('batch, anonymous, score and similar', async () => {
    const b = await post('/v1/recommend/batch', { users: ['u1', 'u2'], k: 2 });
    expect(b.statusCode).toBe(200);
    expect(b.json().results.map((x: { user: string }) => x.user)).toEqual(['u1', 'u2']);
    // Lists answer for the ids the model knows and report the others.
    const partial = await post('/v1/recommend/batch', { users: ['u1', 'ghost', 'u2'], k: 2 });
    expect(partial.statusCode).toBe(200);
    expect(partial.json().results.map((x: { user: string }) => x.user)).toEqual(['u1', 'u2']);
    expect(partial.json().unknown).toEqual(['ghost']);
    expect(b.json().unknown).toEqual([]);
    const a = await post('/v1/recommend/anonymous', { items: ['p1', 'p2', 'unknown'], values: [1, 2, 1], k: 4 });
    expect(a.statusCode).toBe(200);
    expect(a.json().items.map((x: { item: string }) => x.item)).not.toContain('p1');
    const knnVisitor = await post('/v1/recommend/anonymous', { model: 'knn', items: ['p1'] }); // item neighbours of the history
    expect(knnVisitor.statusCode).toBe(200);
    expect(knnVisitor.json().items.map((x: { item: string }) => x.item)).not.toContain('p1');
    expect((await post('/v1/recommend/anonymous', { items: ['p1'], values: [1, 2] })).statusCode).toBe(422);
    const s = await post('/v1/score', { user: 'u1', items: ['p3', 'p4'] });
    expect(s.json().scores.map((x: { item: string }) => x.item)).toEqual(['p3', 'p4']);
    expect(s.json().unknown).toEqual([]);
    const someNew = (await post('/v1/score', { user: 'u1', items: ['nope', 'p3'] })).json();
    expect([someNew.scores.map((x: { item: string }) => x.item), someNew.unknown]).toEqual([['p3'], ['nope']]);
    expect((await post('/v1/score', { user: 'ghost', items: ['p3'] })).statusCode).toBe(404); // a single id still is 404
    const si = await post('/v1/similar/items', { model: 'knn', item: 'p1', k: 3 });
    expect(si.statusCode).toBe(200);
    expect(si.json().neighbors.length).toBeLessThanOrEqual(3);
    expect((await post('/v1/similar/users', { user: 'u1', k: 3 })).json().neighbors).toHaveLength(3);
    expect((await post('/v1/similar/users', { model: 'knn', user: 'u1' })).statusCode).toBe(422);
  });

  it('rejects bad bodies before they reach the engine', async () => {
    const bad: unknown[] = [
      {},
      { user: 'u1', k: 0 },
      { user: 'u1', k: 100000 },
      { user: 'u1', k: 'ten' },
      { user: 'u1', k: 1.5 },
      { user: 'u1', bogus: true },
      { user: null },
      { user: 'u1', exclude: Array.from({ length: 1001 }, (_, i) => `p${i}`) },
      { user: 'x'.repeat(1025) },
      { user: 'u1', fallback: 'random' },
    ];
    for (const body of bad) {
      const r = await post('/v1/recommend', body);
      expect(r.statusCode, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(r.json()).toMatchObject({ statusCode: 400, code: 'FST_ERR_VALIDATION' });
    }
    const big = await app.inject({ method: 'POST', url: '/v1/recommend/batch', payload: JSON.stringify({ users: Array.from({ length: 200_000 }, (_, i) => `u${i}`) }), headers: { 'content-type': 'application/json' } });
    expect(big.statusCode).toBe(413);
    const notJson = await app.inject({ method: 'POST', url: '/v1/recommend', payload: '{"user": ', headers: { 'content-type': 'application/json' } });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json().message).not.toMatch(/at .*\.js/);
  });

  it('reports models, health, metrics and OpenAPI', async () => {
    const m = await app.inject({ url: '/v1/models' });
    expect(m.json().models.map((x: { name: string }) => x.name)).toEqual(['als', 'knn']);
    expect((await app.inject({ url: '/health/live' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/health/ready' })).json()).toEqual({ status: 'ready', models: 2 });
    const metrics = (await app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/affinity_http_request_duration_seconds_count\{method="POST",route="\/v1\/recommend",status="200"\} \d+/);
    expect(metrics).toMatch(/affinity_model_version\{kind="als",model="als"\} 1/);
    expect(metrics).toMatch(/affinity_build_info\{simd="\w+",threads="\d+"\} 1/);
    const spec = (await app.inject({ url: '/docs/json' })).json();
    expect(Object.keys(spec.paths)).toContain('/v1/recommend');
  });
});

describe('admin and reload', () => {
  it('needs the token, compares it safely, and reloads a changed file', async () => {
    expect((await post('/v1/models/als/reload', {})).statusCode).toBe(401);
    expect((await post('/v1/models/als/reload', {}, { authorization: 'Bearer wrong' })).statusCode).toBe(401);
    expect(tokenMatches(TOKEN, TOKEN)).toBe(true);
    expect(tokenMatches(TOKEN + 'x', TOKEN)).toBe(false);
    await (await new ALS({ factors: 8, iterations: 3, seed: 99 }).fit(data)).save(join(dir, 'als.affinity'));
    const ok = await post('/v1/models/als/reload', {}, { authorization: `Bearer ${TOKEN}` });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ name: 'als', version: 2 });
    expect((await post('/v1/recommend', { user: 'u1' })).json().version).toBe(2);
  });

  it('a failed reload keeps the old model serving and is counted', async () => {
    await writeFile(join(dir, 'als.affinity'), 'garbage');
    const r = await post('/v1/models/als/reload', {}, { authorization: `Bearer ${TOKEN}` });
    expect(r.statusCode).toBe(422);
    expect(r.json().code).toBe('ERR_AFFINITY_CORRUPT_FILE');
    const after = await post('/v1/recommend', { user: 'u1' });
    expect(after.statusCode).toBe(200);
    expect(after.json().version).toBe(2);
    expect((await app.inject({ url: '/metrics' })).body).toMatch(/affinity_model_reload_failures_total\{model="als"\} 1/);
    expect((await post('/v1/models/nope/reload', {}, { authorization: `Bearer ${TOKEN}` })).statusCode).toBe(404);
  });

  it('without a token configured, admin routes are disabled', async () => {
    const registry = new ModelRegistry();
    registry.add('m', await new ItemKNN().fit(data));
    const open = await buildApp({ registry, adminToken: '', docs: false });
    const r = await open.inject({ method: 'POST', url: '/v1/models/m/reload', payload: {}, headers: { authorization: 'Bearer ' } });
    expect(r.statusCode).toBe(403);
    expect(r.json().code).toBe('ERR_AFFINITY_ADMIN_DISABLED');
    await open.close();
  });
});

describe('load and shutdown', () => {
  /** An ALS model whose batch recommendations wait until released: engine work held in flight on purpose. */
  async function heldModel() {
    const model = await new ALS({ factors: 8, iterations: 2 }).fit(data);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const started = { count: 0 };
    const real = model.recommendBatch.bind(model);
    model.recommendBatch = async (users, options) => {
      started.count++;
      await held;
      return real(users, options);
    };
    return { model, release, started };
  }

  const untilStarted = async (started: { count: number }, n: number) => {
    while (started.count < n) await new Promise((r) => setTimeout(r, 1));
  };

  it('answers 503 with Retry-After when the engine gate is full', async () => {
    const { model, release, started } = await heldModel();
    const registry = new ModelRegistry();
    registry.add('als', model);
    const small = await buildApp({ registry, maxInFlight: 1, docs: false });
    const batch = { method: 'POST' as const, url: '/v1/recommend/batch', payload: { users: ['u1', 'u2'] } };
    const first = small.inject(batch);
    await untilStarted(started, 1); // the gate's one slot is taken
    const refused = await small.inject(batch);
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.json().code).toBe('ERR_AFFINITY_BUSY');
    expect(started.count).toBe(1); // refused before any engine work
    release();
    expect((await first).statusCode).toBe(200);
    expect((await small.inject(batch)).statusCode).toBe(200); // the slot is free again
    await small.close();
  });

  it('shutdown: readiness turns 503 while in-flight requests finish', async () => {
    const { model, release, started } = await heldModel();
    const registry = new ModelRegistry();
    registry.add('als', model);
    const s = await buildApp({ registry, docs: false });
    expect((await s.inject({ url: '/health/ready' })).statusCode).toBe(200);
    const inFlight = s.inject({ method: 'POST', url: '/v1/recommend/batch', payload: { users: ['u1', 'u2', 'u3'] } });
    await untilStarted(started, 1);
    // Readiness follows the server's state; close() sets it (preClose), serve() sets it unreadyMs earlier.
    s.affinity.state.closing = true;
    const ready = await s.inject({ url: '/health/ready' });
    expect(ready.statusCode).toBe(503);
    expect(ready.headers['retry-after']).toBe('1');
    expect(ready.json()).toEqual({ status: 'closing', models: 1 });
    s.affinity.state.closing = false;
    const closing = s.close();
    await new Promise((r) => setTimeout(r, 20));
    expect(s.affinity.state.closing).toBe(true);
    release();
    expect((await inFlight).statusCode).toBe(200);
    await closing;
  });

  it('over real sockets, finished request bodies do not cancel the work (only a gone client does)', async () => {
    const registry = new ModelRegistry();
    registry.add('als', await new ALS({ factors: 8, iterations: 2 }).fit(data));
    const s = await buildApp({ registry, docs: false });
    await s.listen({ port: 0, host: '127.0.0.1' });
    const { port } = s.server.address() as { port: number };
    const replies = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        fetch(`http://127.0.0.1:${port}/v1/recommend`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: `u${i % 60}`, k: 5 }) }),
      ),
    );
    expect(replies.map((r) => r.status)).toEqual(replies.map(() => 200));
    await s.close();
  });

  it('serves a copied model file under another name', async () => {
    await copyFile(join(dir, 'knn.affinity'), join(dir, 'copy.affinity'));
    const registry = new ModelRegistry('copy');
    await registry.load('copy', join(dir, 'copy.affinity'));
    const s = await buildApp({ registry, docs: false });
    const r = await s.inject({ method: 'POST', url: '/v1/recommend', payload: { user: 'u3', k: 2 } });
    expect(r.json().model).toBe('copy');
    const ready = s.close();
    await ready;
  });
});
