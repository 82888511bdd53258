// The events side of the server against real stores: ingestion (idempotent, all-or-nothing, durable
// before 202), fresh fold-in on /v1/recommend, erasure across models and files, data access, retraining
// with its swap and its refusal, and two servers sharing one PostgreSQL store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { copyFile, readFile } from 'node:fs/promises';
import { ALS, Interactions, ItemKNN, loadModel } from '../src/index.js';
import { buildApp } from '../src/server/app.js';
import type { WithAffinity } from '../src/server/index.js';
import { EventStore } from '../src/events/store.js';
import { freshPostgres, postgresAvailable, tempDir } from './stores.js';

const TOKEN = 'events-admin-token';
const dir = tempDir('affinity-server-events-');
const auth = { authorization: `Bearer ${TOKEN}` };

async function shop(): Promise<Interactions> {
  const users: string[] = [];
  const items: string[] = [];
  for (let u = 0; u < 60; u++) for (let i = 0; i < 40; i++) if ((u * 7 + i * 3) % 11 < 3) (users.push(`u${u}`), items.push(`p${i}`));
  return Interactions.fromArrays({ users, items });
}

let app: WithAffinity;
let als: ALS;
let knn: ItemKNN;
const post = (url: string, payload: unknown, headers: Record<string, string> = {}) => app.inject({ method: 'POST', url, payload: payload as object, headers });

beforeAll(async () => {
  const data = await shop();
  als = await new ALS({ factors: 8, iterations: 3, solver: 'cholesky' }).fit(data);
  knn = await new ItemKNN({ k: 10 }).fit(data);
  await als.save(join(dir, 'als.affinity'));
  await knn.save(join(dir, 'knn.affinity'));
  app = await buildApp({ models: { als: join(dir, 'als.affinity'), knn: join(dir, 'knn.affinity') }, store: `sqlite:${join(dir, 'events.db')}`, adminToken: TOKEN, pressure: false });
});
afterAll(async () => app?.close());

describe('POST /v1/events', () => {
  it('stores one event or a batch once by id, and answers 202 after the commit', async () => {
    const one = await post('/v1/events', { id: 'ev-1', type: 'view', customer: 'u50', item: 'p3' });
    expect(one.statusCode).toBe(202);
    expect(one.json()).toMatchObject({ stored: 1, duplicates: 0 });
    const again = await post('/v1/events', [{ id: 'ev-1', type: 'view', customer: 'u50', item: 'p3' }, { id: 'ev-2', type: 'cart', customer: 'u50', item: 'p4' }]);
    expect(again.json()).toMatchObject({ stored: 1, duplicates: 1 });
    const store = app.affinity.events!.store;
    expect((await store.eventsOf('u50')).map((e) => e.id)).toEqual(['ev-1', 'ev-2']);
  });

  it('refuses a batch with one bad event whole, and hostile bodies, with clear codes', async () => {
    const store = app.affinity.events!.store;
    const before = await store.count();
    const bad = await post('/v1/events', [{ type: 'purchase', customer: 'x1', item: 'p1' }, { type: 'purchase', customer: 'x1', item: 'p2', amount: 'lots' }]);
    expect(bad.statusCode).toBe(422);
    expect(bad.json()).toMatchObject({ code: 'ERR_AFFINITY_BAD_INPUT' });
    expect(bad.json().message).toMatch(/events\[1\]\.amount/);
    // The store's validator answers for the body as a whole: 422 with its reason, nothing stored.
    expect((await post('/v1/events', [])).json()).toMatchObject({ statusCode: 422, message: 'no events given' });
    expect((await post('/v1/events', '{"type": "view", "customer"', { 'content-type': 'application/json' })).json().message).toMatch(/^the body is not JSON/);
    expect((await post('/v1/events', '', { 'content-type': 'application/json' })).statusCode).toBe(422);
    expect((await post('/v1/events', new Array(10_001).fill({ type: 'view', customer: 'x', item: 'p1' }))).json().message).toMatch(/at most 10000/);
    expect((await post('/v1/events', 'type=view', { 'content-type': 'application/x-www-form-urlencoded' })).statusCode).toBe(415);
    expect((await post('/v1/events', { type: 'view', customer: 'x', item: 'p1', extra: 1 })).statusCode).toBe(422);
    expect(await store.count()).toBe(before);
    const big = await post('/v1/events', Array.from({ length: 10_000 }, (_, i) => ({ type: 'view', customer: `bulk${i % 100}`, item: `p${i % 40}` })));
    expect(big.statusCode).toBe(202);
    expect(big.json().stored).toBe(10_000);
  });
});

describe('fresh fold-in on /v1/recommend', () => {
  it('folds a known customer’s new purchases into ALS and ItemKNN answers at once', async () => {
    for (const [name, model] of [['als', als], ['knn', knn]] as const) {
      const user = name === 'als' ? 'u1' : 'u2';
      const before = await post('/v1/recommend', { model: name, user, k: 5 });
      expect(before.json().fresh).toBeUndefined();
      const bought = before.json().items[0].item as string;
      const r = await post('/v1/events', [{ type: 'purchase', customer: user, item: bought }, { type: 'purchase', customer: user, item: 'p39', value: 3 }]);
      expect(r.statusCode).toBe(202);
      const after = await post('/v1/recommend', { model: name, user, k: 5 });
      expect(after.statusCode).toBe(200);
      expect(after.json()).toMatchObject({ fallback: false, fresh: 2 });
      const ids = after.json().items.map((x: { item: string }) => x.item);
      expect(ids).not.toContain(bought);
      expect(ids).not.toContain('p39');
      const past = model.data.itemsOf(user);
      const want = await model.recommendForAsync!({ items: [...past.map((p) => p.item), bought, 'p39'], values: [...past.map((p) => p.value), 1, 3] }, { k: 5 });
      expect(ids).toEqual(want.map((x) => x.item));
      const stale = await post('/v1/recommend', { model: name, user, k: 5, fresh: false });
      expect(stale.json().items).toEqual(before.json().items);
    }
  });

  it('answers a customer the model never saw from their events instead of 404', async () => {
    expect((await post('/v1/recommend', { user: 'newcomer', k: 3 })).statusCode).toBe(404);
    await post('/v1/events', { type: 'purchase', customer: 'newcomer', item: 'p5' });
    const r = await post('/v1/recommend', { user: 'newcomer', k: 3 });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ fallback: false, fresh: 1 });
    expect(r.json().items.map((x: { item: string }) => x.item)).toEqual((await als.recommendForAsync({ items: ['p5'], values: [1] }, { k: 3 })).map((x) => x.item));
  });
});

describe('privacy routes', () => {
  it('forgets a customer everywhere: events, models, files; keeps a receipt; later requests do not know them', async () => {
    await post('/v1/events', [{ id: 'u7-a', type: 'purchase', customer: 'u7', item: 'p1', time: '2026-11-01T00:00:00Z' }, { type: 'view', customer: 'u7', item: 'p2' }]);
    expect((await app.inject({ method: 'DELETE', url: '/v1/customers/u7' })).statusCode).toBe(401);
    const data = await app.inject({ url: '/v1/customers/u7/data', headers: auth });
    expect(data.statusCode).toBe(200);
    expect(data.json().events.length).toBe(2);
    expect(data.json().models).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'als', knows: true }), expect.objectContaining({ name: 'knn', knows: true })]));

    const gone = await app.inject({ method: 'DELETE', url: '/v1/customers/u7', headers: auth });
    expect(gone.statusCode).toBe(200);
    const receipt = gone.json();
    expect(receipt).toMatchObject({ customer: 'u7', eventsDeleted: 2 });
    expect(receipt.modelsUpdated.map((m: { name: string }) => m.name).sort()).toEqual(['als', 'knn']);
    expect(receipt.modelsUpdated.every((m: { version: number }) => m.version >= 2)).toBe(true);

    expect((await post('/v1/recommend', { user: 'u7' })).statusCode).toBe(404);
    expect((await post('/v1/recommend', { model: 'knn', user: 'u7' })).statusCode).toBe(404);
    expect((await post('/v1/recommend', { user: 'u7', fallback: 'popular' })).json().fallback).toBe(true);
    for (const file of ['als.affinity', 'knn.affinity']) expect(((await loadModel(join(dir, file))) as ALS).users.has('u7'), file).toBe(false);
    const replay = await post('/v1/events', { id: 'u7-a', type: 'purchase', customer: 'u7', item: 'p1', time: '2026-11-01T00:00:00Z' });
    expect(replay.json()).toMatchObject({ stored: 0, forgotten: 1 });
    const after = (await app.inject({ url: '/v1/customers/u7/data', headers: auth })).json();
    expect(after.events).toEqual([]);
    expect(after.models.every((m: { knows: boolean }) => !m.knows)).toBe(true);
    expect(after.receipts).toEqual([expect.objectContaining({ eventsDeleted: 2, customer: 'u7' })]);
  });

  it('needs a store and the admin token', async () => {
    const bare = await buildApp({ models: { als: join(dir, 'als.affinity') }, adminToken: TOKEN, pressure: false });
    try {
      const r = await bare.inject({ method: 'POST', url: '/v1/events', payload: { type: 'view', customer: 'a', item: 'p1' } });
      expect(r.json().code).toBe('ERR_AFFINITY_UNSUPPORTED');
      expect((await bare.inject({ method: 'DELETE', url: '/v1/customers/a', headers: auth })).json().code).toBe('ERR_AFFINITY_UNSUPPORTED');
    } finally {
      await bare.close();
    }
    expect((await app.inject({ url: '/v1/customers/u1/data' })).statusCode).toBe(401);
  });
});

describe('retraining from the store', () => {
  it('swaps in a model trained on the events when it is not worse, and refuses one that is', async () => {
    const where = `sqlite:${join(dir, 'retrain.db')}`;
    const store = await EventStore.open(where);
    // Two tastes: customers buy within their group's items; the latest day continues the pattern.
    const day = (d: number) => Date.parse('2026-11-01T00:00:00Z') / 1000 + d * 86_400;
    const events = [];
    for (let c = 0; c < 80; c++) {
      const group = c % 2;
      for (let n = 0; n < 5; n++) events.push({ type: 'purchase', customer: `c${c}`, item: `g${group}-${(c + n) % 10}`, time: day(n) });
      events.push({ type: 'purchase', customer: `c${c}`, item: `g${group}-${(c + 5 + (c % 3)) % 10}`, time: day(6) });
    }
    await store.append(events);
    await store.close();
    // The serving model: trained on noise over the same ids, so the store's patterns beat it.
    const noise = await Interactions.fromArrays({ users: Array.from({ length: 200 }, (_, i) => `c${i % 80}`), items: Array.from({ length: 200 }, (_, i) => `g${i % 2}-${(i * 7) % 10}`) });
    await (await new ALS({ factors: 4, iterations: 2 }).fit(noise)).save(join(dir, 'serving.affinity'));
    const server = await buildApp({ models: { recs: join(dir, 'serving.affinity') }, store: where, adminToken: TOKEN, pressure: false });
    try {
      const r = await server.inject({ method: 'POST', url: '/v1/models/recs/retrain', headers: auth, payload: {} });
      expect(r.statusCode).toBe(200);
      const decision = r.json();
      expect(decision.holdout.users).toBeGreaterThan(10);
      expect(decision.swap).toBe(true);
      expect(decision.version).toBe(2);
      expect(decision.ndcg.candidate).toBeGreaterThanOrEqual(decision.ndcg.serving - 0.005);
      const served = (await loadModel(join(dir, 'serving.affinity'))) as ALS;
      expect(served.metadata?.data.storeSeq).toBe(decision.throughSeq);
      expect(served.data.size).toBeGreaterThan(noise.size);
      const listing = (await server.inject({ url: '/v1/models' })).json();
      expect(listing.store).toMatchObject({ kind: 'sqlite', trainings: [expect.objectContaining({ model: 'recs', swap: true, version: 2 })] });
      expect(listing.models[0].metadata.data.storeSeq).toBe(decision.throughSeq);
    } finally {
      await server.close();
    }

    // Refusal: a serving model that learned the pattern before the latest day, against a candidate that
    // learns nothing (no iterations: its random start). The candidate is recorded and not swapped in.
    const before = await Interactions.fromArrays({ users: events.filter((e) => e.time < day(6)).map((e) => e.customer), items: events.filter((e) => e.time < day(6)).map((e) => e.item) });
    await (await new ALS({ factors: 4, iterations: 10, regularization: 0.1, solver: 'cholesky' }).fit(before)).save(join(dir, 'good.affinity'));
    const bytes = await readFile(join(dir, 'good.affinity'));
    const guarded = await buildApp({ models: { recs: join(dir, 'good.affinity') }, store: where, adminToken: TOKEN, pressure: false });
    try {
      const refused = await guarded.affinity.events!.retrain('recs', { build: () => new ALS({ factors: 8, iterations: 0 }), margin: 0.01 });
      expect(refused.swap).toBe(false);
      expect(refused.ndcg.candidate).toBeLessThan(refused.ndcg.serving! - 0.01);
      expect(refused.version).toBe(1);
      expect(guarded.affinity.registry.byName('recs').version).toBe(1);
      expect((await readFile(join(dir, 'good.affinity'))).equals(bytes)).toBe(true);
      const trainings = (await guarded.inject({ url: '/v1/models' })).json().store.trainings;
      expect(trainings.at(-1)).toMatchObject({ model: 'recs', swap: false, version: 1 });
    } finally {
      await guarded.close();
    }
  });
});

describe.runIf(postgresAvailable())('two servers on one PostgreSQL store', () => {
  it('each sees the events the other wrote, and an erasure through one', async () => {
    const url = await freshPostgres();
    const options = { models: { als: join(dir, 'als.affinity') }, store: url, adminToken: TOKEN, pressure: false } as const;
    const a = await buildApp(options);
    const b = await buildApp(options);
    try {
      const r = await a.inject({ method: 'POST', url: '/v1/events', payload: [{ type: 'purchase', customer: 'shared-1', item: 'p3' }, { type: 'purchase', customer: 'shared-1', item: 'p8' }] });
      expect(r.statusCode).toBe(202);
      let seen: { fresh?: number; statusCode?: number } = {};
      for (let tries = 0; tries < 100 && seen.fresh !== 2; tries++) {
        await new Promise((ok) => setTimeout(ok, 50));
        const reply = await b.inject({ method: 'POST', url: '/v1/recommend', payload: { user: 'shared-1', k: 3 } });
        seen = { ...reply.json(), statusCode: reply.statusCode };
      }
      expect(seen).toMatchObject({ statusCode: 200, fresh: 2 });
      await b.inject({ method: 'POST', url: '/v1/events', payload: { id: 'from-b', type: 'view', customer: 'shared-2', item: 'p1' } });
      expect((await a.affinity.events!.store.eventsOf('shared-2')).map((e) => e.id)).toEqual(['from-b']);
      const gone = await a.inject({ method: 'DELETE', url: '/v1/customers/shared-1', headers: auth });
      expect(gone.json().eventsDeleted).toBe(2);
      let status = 200;
      for (let tries = 0; tries < 200 && status === 200; tries++) {
        await new Promise((ok) => setTimeout(ok, 50));
        status = (await b.inject({ method: 'POST', url: '/v1/recommend', payload: { user: 'shared-1', k: 3 } })).statusCode;
      }
      expect(status).toBe(404); // b dropped the forgotten customer's fresh events (tombstones)
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('an erasure through one server takes the customer out of the models the other serves, and out of stale files at start', async () => {
    const url = await freshPostgres();
    for (const name of ['a', 'b', 'late']) await copyFile(join(dir, 'knn.affinity'), join(dir, `${name}.affinity`));
    const serve = (name: string) => buildApp({ models: { knn: join(dir, `${name}.affinity`) }, store: url, adminToken: TOKEN, pressure: false });
    const a = await serve('a');
    const b = await serve('b');
    try {
      expect((await b.inject({ method: 'POST', url: '/v1/recommend', payload: { user: 'u12', k: 3 } })).statusCode).toBe(200);
      expect((await a.inject({ method: 'DELETE', url: '/v1/customers/u12', headers: auth })).json().modelsUpdated).toEqual([{ name: 'knn', version: 2 }]);
      let status = 200;
      for (let tries = 0; tries < 200 && status === 200; tries++) {
        await new Promise((ok) => setTimeout(ok, 50));
        status = (await b.inject({ method: 'POST', url: '/v1/recommend', payload: { user: 'u12', k: 3 } })).statusCode;
      }
      expect(status).toBe(404);
      expect(b.affinity.registry.byName('knn').version).toBe(2);
      expect(((await loadModel(join(dir, 'b.affinity'))) as ItemKNN).users.has('u12')).toBe(false);
      // A server started later from a copy made before the erasure never serves the customer.
      expect(((await loadModel(join(dir, 'late.affinity'))) as ItemKNN).users.has('u12')).toBe(true);
      const late = await serve('late');
      try {
        expect((await late.inject({ method: 'POST', url: '/v1/recommend', payload: { user: 'u12', k: 3 } })).statusCode).toBe(404);
        expect(((await loadModel(join(dir, 'late.affinity'))) as ItemKNN).users.has('u12')).toBe(false);
      } finally {
        await late.close();
      }
    } finally {
      await a.close();
      await b.close();
    }
  });
});
