// The affinity plugin inside an app it does not own: scoped routes, errors, validation and CORS; one typed
// decorator; runtime metrics; the OpenAPI document; POST /v1/explain.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { ALS, Interactions, ItemKNN } from '../src/index.js';
import { affinity, affinityOf, buildApp, type WithAffinity } from '../src/server/index.js';
import { freePort } from './postgres-server.js';

let dir: string;
let data: Interactions;
let als: ALS;
let app: FastifyInstance;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'affinity-plugin-'));
  const users: string[] = [];
  const items: string[] = [];
  for (let u = 0; u < 40; u++) for (let i = 0; i < 30; i++) if ((u * 5 + i * 3) % 7 < 2) (users.push(`u${u}`), items.push(`p${i}`));
  data = await Interactions.fromArrays({ users, items });
  als = await new ALS({ factors: 8, iterations: 3 }).fit(data);
  await als.save(join(dir, 'als.affinity'));
  await (await new ItemKNN({ k: 10 }).fit(data)).save(join(dir, 'knn.affinity'));

  // The user's own app: its own error format, its own (default) validation, its own routes.
  app = Fastify();
  app.setErrorHandler((err: Error, _request, reply) => reply.status(418).send({ mine: true, message: err.message }));
  app.post('/mine', { schema: { body: { type: 'object', properties: { a: { type: 'integer' } }, additionalProperties: false } } }, async (request) => ({ body: request.body }));
  app.get('/boom', async () => {
    throw new Error('boom');
  });
  await app.register(affinity, { prefix: '/recs', models: { als: join(dir, 'als.affinity'), knn: join(dir, 'knn.affinity') }, cors: { origin: ['https://shop.example'] }, docs: false, pressure: false });
  await app.ready();
});
afterAll(async () => {
  await app.close();
  await rm(dir, { recursive: true, force: true });
});

describe('inside an existing app', () => {
  it('serves under the prefix, and leaves the rest of the app as it was', async () => {
    const r = await app.inject({ method: 'POST', url: '/recs/v1/recommend', payload: { user: 'u1', k: 3 } });
    expect(r.statusCode).toBe(200);
    expect(r.json().items).toEqual(als.recommend('u1', { k: 3 }).map((x) => ({ item: x.item, score: expect.closeTo(x.score, 5) })));
    expect((await app.inject({ method: 'POST', url: '/v1/recommend', payload: { user: 'u1' } })).statusCode).toBe(404);
    // The app's error handler and validation still rule its own routes...
    expect((await app.inject({ url: '/boom' })).json()).toEqual({ mine: true, message: 'boom' });
    expect((await app.inject({ method: 'POST', url: '/mine', payload: { a: 1, extra: 2 } })).json()).toEqual({ body: { a: 1 } });
    // ...and ours rule ours: unknown fields rejected, errors in the engine's shape and codes.
    const extra = await app.inject({ method: 'POST', url: '/recs/v1/recommend', payload: { user: 'u1', extra: 2 } });
    expect([extra.statusCode, extra.json().code]).toEqual([400, 'FST_ERR_VALIDATION']);
    const ghost = await app.inject({ method: 'POST', url: '/recs/v1/recommend', payload: { user: 'ghost' } });
    expect([ghost.statusCode, ghost.json().code]).toEqual([404, 'ERR_AFFINITY_UNKNOWN_ID']);
  });

  it('adds one decorator, typed through WithAffinity / affinityOf rather than a global augmentation', () => {
    const typed = app as WithAffinity;
    expect(typed.affinity.registry.size).toBe(2);
    expect(affinityOf(app)).toBe(typed.affinity);
    // @ts-expect-error: a plain FastifyInstance does not claim the decorator
    void app.affinity;
    expect(() => affinityOf(Fastify())).toThrow(expect.objectContaining({ code: 'ERR_AFFINITY_NOT_READY' }));
  });

  it('answers CORS preflights from the allowed origins, on its own routes only', async () => {
    const preflight = await app.inject({ method: 'OPTIONS', url: '/recs/v1/recommend', headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST' } });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://shop.example');
    const other = await app.inject({ method: 'POST', url: '/recs/v1/recommend', payload: { user: 'u1' }, headers: { origin: 'https://evil.example' } });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    const mine = await app.inject({ method: 'POST', url: '/mine', payload: {}, headers: { origin: 'https://shop.example' } });
    expect(mine.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('explains a recommendation as the model does, and says which models cannot', async () => {
    const r = await app.inject({ method: 'POST', url: '/recs/v1/explain', payload: { user: 'u1', item: 'p2', k: 3 } });
    expect(r.statusCode).toBe(200);
    const why = als.explain('u1', 'p2', { k: 3 });
    expect(r.json()).toMatchObject({ model: 'als', user: 'u1', item: 'p2', score: expect.closeTo(why.score, 5) });
    expect(r.json().contributions.map((c: { item: string }) => c.item)).toEqual(why.contributions.map((c) => c.item));
    const knn = await app.inject({ method: 'POST', url: '/recs/v1/explain', payload: { model: 'knn', user: 'u1', item: 'p2' } });
    expect([knn.statusCode, knn.json().code]).toEqual([422, 'ERR_AFFINITY_UNSUPPORTED']);
    const unknownItem = await app.inject({ method: 'POST', url: '/recs/v1/explain', payload: { user: 'u1', item: 'nope' } });
    expect(unknownItem.statusCode).toBe(404);
  });

  it('reports process and runtime metrics with its own', async () => {
    const text = (await app.inject({ url: '/recs/metrics' })).body;
    for (const name of ['affinity_http_request_duration_seconds_count', 'process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_open_fds', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_eventloop_utilization', 'nodejs_version_info'])
      expect(text, name).toMatch(new RegExp(`^${name}(\\{[^}]*\\})? [0-9.e+-]+$`, 'm'));
  });
});

describe('metrics on a port of their own', () => {
  it('serves /metrics there once the app listens, and not on the app', async () => {
    const port = await freePort();
    const own = await buildApp({ models: { als: join(dir, 'als.affinity') }, metrics: { port, host: '127.0.0.1' }, docs: false });
    try {
      expect((await own.inject({ url: '/metrics' })).statusCode).toBe(404);
      await own.listen({ port: 0, host: '127.0.0.1' });
      const r = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(r.status).toBe(200);
      expect(await r.text()).toMatch(/^affinity_model_version\{kind="als",model="als"\} 1$/m);
      expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
    } finally {
      await own.close();
    }
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
  });
});

describe('the OpenAPI document', () => {
  it('has a summary and description for every operation, and only the statuses each can answer', async () => {
    const docs = await buildApp({ models: { als: join(dir, 'als.affinity') }, pressure: false });
    try {
      const spec = (await docs.inject({ url: '/docs/json' })).json() as { paths: Record<string, Record<string, { summary?: string; description?: string; responses: Record<string, unknown>; security?: unknown; operationId?: string; requestBody?: { content: Record<string, { examples?: unknown; schema?: { examples?: unknown } }> } }>> };
      const operations = Object.entries(spec.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, ...op })));
      expect(operations.length).toBeGreaterThanOrEqual(19);
      for (const op of operations) {
        expect(op.summary, `${op.method} ${op.path}`).toBeTruthy();
        expect(op.description, `${op.method} ${op.path}`).toBeTruthy();
        const statuses = Object.keys(op.responses);
        const admin = op.path.endsWith('/reload') || op.path.endsWith('/retrain') || op.path.startsWith('/v1/customers/');
        expect(statuses.includes('401') || statuses.includes('403'), `${op.path} lists 401/403`).toBe(admin);
        expect(op.security !== undefined, `${op.path} security`).toBe(admin);
        if (op.path.startsWith('/health')) expect(statuses.sort()).toEqual(['200', '503']);
      }
      const explain = operations.find((op) => op.path === '/v1/explain')!;
      expect(explain.method).toBe('post');
      expect(JSON.stringify(explain.requestBody)).toContain('"item":"p3"');
    } finally {
      await docs.close();
    }
  });
});
