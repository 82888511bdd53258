// /v1/recommend, /v1/recommend/batch, /v1/recommend/anonymous, /v1/score, /v1/similar/{items,users}.
// Routes ask a model for a capability (a method of the contract), never for its class.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { Readable } from 'node:stream';
import { AffinityError, ErrorCode } from '../../core/errors.js';
import { resolveId, type Id, type IdMap } from '../../data/ids.js';
import type { BatchRecommendations, Recommender } from '../../models/contract.js';
import type { Attributes } from '../../data/catalog.js';
import { catalogView } from '../catalog.js';
import { partition } from '../lists.js';
import { batcherFor } from '../batcher.js';
import type { AffinityContext } from '../context.js';
import type { Reservation } from '../gate.js';
import type { ModelEntry } from '../registry.js';
import * as S from '../schemas.js';

/**
 * Aborts when the client goes away before the reply is written: the response closing unfinished. (The
 * request's own close event fires once its body is read, which is not a disconnect.)
 */
function clientGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort(new Error('client disconnected'));
  });
  return controller.signal;
}

function known(entry: ModelEntry<Recommender>, ids: IdMap, what: 'user' | 'item', id: Id): Id {
  const found = resolveId(ids, id);
  if (found === undefined) throw new AffinityError(`unknown ${what} ${JSON.stringify(id)} in model ${entry.name}`, ErrorCode.UnknownId);
  return found;
}

/** Known items of a request list (unknown ones cannot be recommended anyway). */
function knownItems(entry: ModelEntry<Recommender>, ids: Id[] | undefined): Id[] | undefined {
  return ids?.map((i) => resolveId(entry.model.items, i)).filter((i): i is Id => i !== undefined);
}

function unsupported(entry: ModelEntry<Recommender>, what: string): AffinityError {
  return new AffinityError(`model ${entry.name} (${entry.kind}) ${what}`, ErrorCode.Unsupported);
}

/** Item ids as JSON strings, encoded once per id list (a model's catalogue) rather than once per answer. */
const encodedIds = new WeakMap<readonly Id[], string[]>();
function encoded(ids: readonly Id[]): string[] {
  let out = encodedIds.get(ids);
  if (!out) encodedIds.set(ids, (out = ids.map((id) => JSON.stringify(id))));
  return out;
}

/**
 * The BatchReply JSON of a batch, produced a few thousand items at a time with the event loop free between
 * slices (the schema's shape, field for field: the serializer does not see streams). A client that is
 * gone ends it.
 */
async function* batchJson(
  served: { model: string; version: number },
  users: Id[],
  batch: BatchRecommendations,
  itemIds: readonly Id[],
  signal: AbortSignal,
  attributesOf: (id: Id) => Attributes | undefined,
  unknown: Id[],
): AsyncGenerator<string> {
  yield `{"model":${JSON.stringify(served.model)},"version":${served.version},"results":[`;
  const ids = encoded(itemIds);
  const { k, items, scores } = batch;
  const rowsPerSlice = Math.max(1, Math.floor(4096 / Math.max(1, k)));
  for (let row = 0; row < users.length; row += rowsPerSlice) {
    if (signal.aborted) return;
    const end = Math.min(users.length, row + rowsPerSlice);
    let out = '';
    for (let r = row; r < end; r++) {
      out += `${r > 0 ? ',' : ''}{"user":${JSON.stringify(users[r])},"items":[`;
      for (let j = 0; j < k; j++) {
        const item = items[r * k + j];
        if (item < 0) break;
        const attributes = attributesOf(itemIds[item]);
        out += `${j > 0 ? ',' : ''}{"item":${ids[item]},"score":${scores[r * k + j]}${attributes ? `,"attributes":${JSON.stringify(attributes)}` : ''}}`;
      }
      out += ']}';
    }
    yield out;
    if (end < users.length) await new Promise((resolve) => setImmediate(resolve));
  }
  yield `],"unknown":${JSON.stringify(unknown)}}`;
}

export const recommendRoutes: FastifyPluginAsyncTypebox<AffinityContext> = async (app, { registry, engine, metrics, events }) => {
  const served = (e: ModelEntry) => ({ model: e.name, version: e.version });

  app.post('/recommend', { schema: { tags: ['recommend'], operationId: 'recommend', body: S.RecommendBody, response: S.replies(S.RecommendReply) } }, async (request, reply) => {
    const body = request.body;
    const entry = registry.get(body.model);
    const k = body.k ?? 10;
    const view = catalogView(registry, metrics, body);
    const options = { k, filterSeen: body.filterSeen ?? true, exclude: knownItems(entry, body.exclude), include: knownItems(entry, body.include), filter: view.filter };
    // Events since the model was trained fold in (a known user's training items with them, or an unknown
    // user's events alone), so a purchase a second ago changes the answer.
    const fresh = body.fresh !== false && events ? await events.historyFor(entry, body.user) : undefined;
    if (fresh) {
      const items = await engine.run(`${entry.kind}.fresh`, () => entry.model.recommendForAsync!(fresh.history, { ...options, signal: clientGone(reply) }));
      return { ...served(entry), user: body.user, fallback: false, fresh: fresh.fresh, items: view.attach(items, (r) => r.item) };
    }
    const user = resolveId(entry.model.users, body.user);
    if (user === undefined) {
      if (body.fallback !== 'popular') throw new AffinityError(`unknown user ${JSON.stringify(body.user)} in model ${entry.name}`, ErrorCode.UnknownId);
      const popular = entry.popular;
      if (!popular?.recommendForAsync) throw unsupported(entry, 'keeps no interactions to rank popular items by');
      const items = await engine.run('popular.recommend', () => popular.recommendForAsync!({ items: [] }, options));
      return { ...served(entry), user: body.user, fallback: true, items: view.attach(items, (r) => r.item) };
    }
    const model = entry.model;
    // A full catalogue scan (prepared models: ALS) coalesces into native batches off the event loop;
    // neighbourhood models touch a few lists: microseconds, inline.
    const plain = options.filterSeen && !options.exclude && !options.include && !options.filter;
    const items = model.prepare
      ? await engine.run(`${entry.kind}.recommend`, async () =>
          plain ? batcherFor(model).recommend(user, k) : (await model.recommendBatch([user], { ...options, signal: clientGone(reply) })).get(0),
        )
      : await engine.run(`${entry.kind}.recommend`, () => model.recommend(user, options));
    return { ...served(entry), user: body.user, fallback: false, items: view.attach(items, (r) => r.item) };
  });

  // A batch reserves the most its body could ask for before the body is read (from its length: at least
  // two bytes an id), so a burst of large batches is refused unread; once parsed, the exact cost.
  const reservations = new WeakMap<object, Reservation>();
  app.post(
    '/recommend/batch',
    {
      schema: { tags: ['recommend'], operationId: 'recommendBatch', body: S.BatchBody, response: S.replies(S.BatchReply) },
      preParsing: async (request, reply) => {
        const bytes = Number(request.headers['content-length'] ?? S.LIMITS.batchUsers * 2);
        const bound = Math.min(S.LIMITS.batchUsers, Math.ceil((Number.isFinite(bytes) ? bytes : Infinity) / 2)) * S.LIMITS.k;
        const reservation = engine.reserve(bound);
        reservations.set(request, reservation);
        reply.raw.once('close', reservation.release); // the reply is written or the client is gone
        reply.raw.once('finish', reservation.release);
      },
    },
    async (request, reply) => {
      const entry = registry.get(request.body.model);
      const k = request.body.k ?? 10;
      reservations.get(request)?.shrink(request.body.users.length * Math.min(k, entry.model.items.size));
      const { found, asked, unknown } = partition(entry.model.users, request.body.users);
      const users = found;
      const view = catalogView(registry, metrics, request.body);
      const signal = clientGone(reply);
      const batch = await engine.run(`${entry.kind}.batch`, () => entry.model.recommendBatch(users, { k, signal, filter: view.filter }));
      // Streamed in slices with the event loop free between them; a closed socket ends the stream.
      reply.type('application/json');
      return reply.send(Readable.from(batchJson(served(entry), asked, batch, entry.model.items.ids, signal, view.attributesOf, unknown)) as never); // a stream bypasses the serializer: batchJson writes the schema's shape
    },
  );

  app.post('/recommend/anonymous', { schema: { tags: ['recommend'], operationId: 'recommendAnonymous', body: S.AnonymousBody, response: S.replies(S.AnonymousReply) } }, async (request, reply) => {
    const body = request.body;
    const entry = registry.get(body.model);
    const model = entry.model;
    if (!model.recommendForAsync) throw unsupported(entry, 'cannot recommend from a visitor history; use an ALS model');
    if (body.values && body.values.length !== body.items.length) throw new AffinityError('values must have one entry per item', ErrorCode.DimMismatch);
    const history = { items: body.items.map((i) => resolveId(model.items, i) ?? i), values: body.values };
    const view = catalogView(registry, metrics, body);
    const items = await engine.run(`${entry.kind}.foldIn`, () =>
      model.recommendForAsync!(history, { k: body.k ?? 10, exclude: knownItems(entry, body.exclude), filter: view.filter, signal: clientGone(reply) }),
    );
    return { ...served(entry), items: view.attach(items, (r) => r.item) };
  });

  app.post('/score', { schema: { tags: ['recommend'], operationId: 'score', body: S.ScoreBody, response: S.replies(S.ScoreReply) } }, async (request) => {
    const entry = registry.get(request.body.model);
    const user = known(entry, entry.model.users, 'user', request.body.user);
    const { found, asked, unknown } = partition(entry.model.items, request.body.items);
    const scores = found.length > 0 ? await engine.run(`${entry.kind}.score`, () => entry.model.score(user, found)) : [];
    return { ...served(entry), user: request.body.user, scores: asked.map((item, j) => ({ item, score: scores[j] })), unknown };
  });

  app.post('/explain', { schema: { tags: ['recommend'], operationId: 'explain', body: S.ExplainBody, response: S.replies(S.ExplainReply) } }, async (request) => {
    const entry = registry.get(request.body.model);
    const model = entry.model;
    if (!model.explain) throw unsupported(entry, 'has no explanations');
    const user = known(entry, model.users, 'user', request.body.user);
    const item = known(entry, model.items, 'item', request.body.item);
    const why = await engine.run(`${entry.kind}.explain`, () => model.explain!(user, item, { k: request.body.k ?? 10 }));
    return { ...served(entry), user: request.body.user, item: request.body.item, score: why.score, contributions: why.contributions };
  });

  app.post('/similar/items', { schema: { tags: ['recommend'], operationId: 'similarItems', body: S.SimilarItemsBody, response: S.replies(S.SimilarReply) } }, async (request) => {
    const entry = registry.get(request.body.model);
    const model = entry.model;
    if (!model.similarItemsAsync) throw unsupported(entry, 'has no item neighbours');
    const item = known(entry, model.items, 'item', request.body.item);
    const view = catalogView(registry, metrics, request.body);
    const neighbors = await engine.run(`${entry.kind}.similarItems`, () => model.similarItemsAsync!(item, { k: request.body.k ?? 10, filter: view.filter }));
    return { ...served(entry), neighbors: view.attach(neighbors, (n) => n.id) };
  });

  app.post('/similar/users', { schema: { tags: ['recommend'], operationId: 'similarUsers', body: S.SimilarUsersBody, response: S.replies(S.SimilarReply) } }, async (request) => {
    const entry = registry.get(request.body.model);
    const model = entry.model;
    if (!model.similarUsersAsync) throw unsupported(entry, 'has no user neighbours');
    const user = known(entry, model.users, 'user', request.body.user);
    const neighbors = await engine.run(`${entry.kind}.similarUsers`, () => model.similarUsersAsync!(user, { k: request.body.k ?? 10 }));
    return { ...served(entry), neighbors };
  });
};
