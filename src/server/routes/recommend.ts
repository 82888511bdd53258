// /v1/recommend, /v1/recommend/batch, /v1/recommend/anonymous, /v1/score, /v1/similar/{items,users}
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { ALS } from '../../als.js';
import { AffinityError, ErrorCode } from '../../errors.js';
import type { Id } from '../../ids.js';
import { ItemKNN, UserKNN } from '../../knn.js';
import { batcherFor } from '../batcher.js';
import { resolveId, type ModelEntry } from '../registry.js';
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

function knownUser(entry: ModelEntry, id: Id): Id | undefined {
  return resolveId(entry.data.users, id);
}

function requireUser(entry: ModelEntry, id: Id): Id {
  const known = knownUser(entry, id);
  if (known === undefined) throw new AffinityError(`unknown user ${JSON.stringify(id)} in model ${entry.name}`, ErrorCode.UnknownId);
  return known;
}

/** Known items of a request list (unknown ones cannot be recommended anyway). */
function items(entry: ModelEntry, ids: Id[] | undefined): Id[] | undefined {
  return ids?.map((i) => resolveId(entry.data.items, i)).filter((i): i is Id => i !== undefined);
}

export const recommendRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const served = (e: ModelEntry) => ({ model: e.name, version: e.version });

  app.post('/recommend', { schema: { tags: ['recommend'], operationId: 'recommend', body: S.RecommendBody, response: S.replies(S.RecommendReply) } }, async (request, reply) => {
    const body = request.body;
    const entry = app.registry.get(body.model);
    const k = body.k ?? 10;
    const user = knownUser(entry, body.user);
    if (user === undefined) {
      if (body.fallback !== 'popular') throw new AffinityError(`unknown user ${JSON.stringify(body.user)} in model ${entry.name}`, ErrorCode.UnknownId);
      const excluded = new Set(items(entry, body.exclude) ?? []);
      const allowed = body.include ? new Set(items(entry, body.include)) : null;
      const list = entry.popular.filter((i) => !excluded.has(i) && (!allowed || allowed.has(i))).slice(0, k);
      return { ...served(entry), user: body.user, fallback: true, items: list.map((item, r) => ({ item, score: list.length - r })) };
    }
    const options = { k, filterSeen: body.filterSeen ?? true, exclude: items(entry, body.exclude), include: items(entry, body.include) };
    const model = entry.model;
    // ALS scans the whole catalogue: native threads. KNN touches a few neighbour lists: microseconds, inline.
    const plain = options.filterSeen && !options.exclude && !options.include;
    const list =
      model instanceof ALS
        ? await app.engine.run('als.recommend', async () =>
            plain
              ? batcherFor(model).recommend(user, k)
              : (await model.recommendBatch([user], { ...options, signal: clientGone(reply) })).get(0),
          )
        : await app.engine.run(`${entry.kind}.recommend`, () => model.recommend(user, options));
    return { ...served(entry), user: body.user, fallback: false, items: list };
  });

  app.post('/recommend/batch', { schema: { tags: ['recommend'], operationId: 'recommendBatch', body: S.BatchBody, response: S.replies(S.BatchReply) } }, async (request, reply) => {
    const entry = app.registry.get(request.body.model);
    const users = request.body.users.map((u) => requireUser(entry, u));
    const batch = await app.engine.run(`${entry.kind}.batch`, () => entry.model.recommendBatch(users, { k: request.body.k ?? 10, signal: clientGone(reply) }));
    return { ...served(entry), results: request.body.users.map((user, row) => ({ user, items: batch.get(row) })) };
  });

  app.post('/recommend/anonymous', { schema: { tags: ['recommend'], operationId: 'recommendAnonymous', body: S.AnonymousBody, response: S.replies(S.AnonymousReply) } }, async (request, reply) => {
    const body = request.body;
    const entry = app.registry.get(body.model);
    const model = entry.model;
    if (!(model instanceof ALS)) throw new AffinityError(`model ${entry.name} (${entry.kind}) cannot fold in visitors; use an ALS model`, ErrorCode.Unsupported);
    if (body.values && body.values.length !== body.items.length) throw new AffinityError('values must have one entry per item', ErrorCode.DimMismatch);
    const history = { items: body.items.map((i) => resolveId(entry.data.items, i) ?? i), values: body.values };
    const list = await app.engine.run('als.foldIn', () =>
      model.recommendForAsync(history, { k: body.k ?? 10, exclude: items(entry, body.exclude), signal: clientGone(reply) }),
    );
    return { ...served(entry), items: list };
  });

  app.post('/score', { schema: { tags: ['recommend'], operationId: 'score', body: S.ScoreBody, response: S.replies(S.ScoreReply) } }, async (request) => {
    const entry = app.registry.get(request.body.model);
    const user = requireUser(entry, request.body.user);
    const candidates = request.body.items.map((i) => {
      const known = resolveId(entry.data.items, i);
      if (known === undefined) throw new AffinityError(`unknown item ${JSON.stringify(i)} in model ${entry.name}`, ErrorCode.UnknownId);
      return known;
    });
    const scores = await app.engine.run(`${entry.kind}.score`, () => entry.model.score(user, candidates));
    return { ...served(entry), user: request.body.user, scores: request.body.items.map((item, j) => ({ item, score: scores[j] })) };
  });

  app.post('/similar/items', { schema: { tags: ['recommend'], operationId: 'similarItems', body: S.SimilarItemsBody, response: S.replies(S.SimilarReply) } }, async (request) => {
    const entry = app.registry.get(request.body.model);
    const model = entry.model;
    if (model instanceof UserKNN) throw new AffinityError(`model ${entry.name} (userknn) has no item neighbours`, ErrorCode.Unsupported);
    const item = resolveId(entry.data.items, request.body.item);
    if (item === undefined) throw new AffinityError(`unknown item ${JSON.stringify(request.body.item)} in model ${entry.name}`, ErrorCode.UnknownId);
    const k = request.body.k ?? 10;
    const neighbors = await app.engine.run(`${entry.kind}.similarItems`, () =>
      model instanceof ALS ? model.similarAsync('items', item, { k }) : model.similarItems(item, { k }),
    );
    return { ...served(entry), neighbors };
  });

  app.post('/similar/users', { schema: { tags: ['recommend'], operationId: 'similarUsers', body: S.SimilarUsersBody, response: S.replies(S.SimilarReply) } }, async (request) => {
    const entry = app.registry.get(request.body.model);
    const model = entry.model;
    if (model instanceof ItemKNN) throw new AffinityError(`model ${entry.name} (itemknn) has no user neighbours`, ErrorCode.Unsupported);
    const user = requireUser(entry, request.body.user);
    const k = request.body.k ?? 10;
    const neighbors = await app.engine.run(`${entry.kind}.similarUsers`, () =>
      model instanceof ALS ? model.similarAsync('users', user, { k }) : model.similarUsers(user, { k }),
    );
    return { ...served(entry), neighbors };
  });
};
