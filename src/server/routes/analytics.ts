// Marketing analytics over HTTP: /v1/segments/:user, /v1/propensity, /v1/also-bought,
// /v1/content/{recommend,similar}, /v1/hybrid/recommend. Each finds its model by kind: the one a request
// names (`model`), or the first of that kind the server loaded; none is 404 ERR_AFFINITY_UNKNOWN_MODEL,
// naming the models the server has.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { PropensityScorer } from '../../analytics/churn.js';
import { CoPurchaseRules } from '../../analytics/rules.js';
import { Segmentation } from '../../analytics/segments.js';
import { LifetimeValueModel } from '../../analytics/lifetime.js';
import { AffinityError, ErrorCode, badInput } from '../../core/errors.js';
import { resolveId, type Id, type IdMap } from '../../data/ids.js';
import type { ItemFilter } from '../../data/filter.js';
import { ContentRecommender } from '../../models/content.js';
import { HybridRecommender } from '../../models/hybrid.js';
import { catalogView } from '../catalog.js';
import { partition } from '../lists.js';
import type { AffinityContext } from '../context.js';
import * as S from '../schemas.js';


/** The id as the model spells it ("123" and 123 are the same customer), or the id unchanged. */
function known(ids: IdMap, id: Id): Id {
  return resolveId(ids, id) ?? id;
}

function knownItems(ids: IdMap, list: Id[] | undefined): Id[] | undefined {
  return list?.map((i) => known(ids, i));
}

type ColdStart = { user?: Id; items?: Id[]; values?: number[]; k?: number; filterSeen?: boolean; exclude?: Id[]; include?: Id[] };

function coldStartRequest(body: ColdStart, items: IdMap, filter: ItemFilter | undefined) {
  if ((body.user === undefined) === (body.items === undefined)) throw badInput('give exactly one of user or items');
  if (body.values !== undefined && body.values.length !== body.items?.length) throw new AffinityError('values must have one entry per item', ErrorCode.DimMismatch);
  const options = { k: body.k ?? 10, filterSeen: body.filterSeen ?? true, exclude: knownItems(items, body.exclude), include: knownItems(items, body.include), filter };
  const history = body.items ? { items: knownItems(items, body.items)!, values: body.values } : undefined;
  return { options, history };
}

export const analyticsRoutes: FastifyPluginAsyncTypebox<AffinityContext> = async (app, { registry, engine, metrics }) => {
  app.get(
    '/segments/:user',
    { schema: { tags: ['analytics'], operationId: 'segmentOf', params: S.SegmentParams, querystring: S.ModelQuery, response: S.replies(S.SegmentReply) } },
    async (request) => {
      const { name, model } = registry.ofClass(Segmentation, request.query.model);
      const user = known(model.customers, request.params.user);
      const { segment, profile } = model.segmentOf(user);
      return { model: name, user, segment, profile };
    },
  );

  app.post('/segments', { schema: { tags: ['analytics'], operationId: 'segmentsOf', body: S.SegmentsBody, response: S.replies(S.SegmentsReply) } }, async (request) => {
    const { name, model } = registry.ofClass(Segmentation, request.body.model);
    const { found, unknown } = partition(model.customers, request.body.customers);
    const results = found.map((user) => ({ user, segment: model.segmentOf(user).segment }));
    const profiles = [...new Set(results.map((r) => r.segment))].sort((a, b) => a - b).map((s) => model.profiles[s]);
    return { model: name, results, profiles, unknown };
  });

  app.post('/propensity', { schema: { tags: ['analytics'], operationId: 'propensity', body: S.PropensityBody, response: S.replies(S.PropensityReply) } }, async (request) => {
    const { name, model } = registry.ofClass(PropensityScorer, request.body.model);
    const { customers, histories, asOf } = request.body;
    if ((customers === undefined) === (histories === undefined)) throw badInput('give exactly one of customers or histories');
    const top = request.body.attributions ?? 5;
    if (histories) return { model: name, results: await engine.run('propensity', () => model.scoreLines(histories, { asOf, top })), unknown: [] };
    const { found, unknown } = partition(model.dataset.customers, customers!);
    const results = found.length > 0 ? await engine.run('propensity', () => model.score(found, top)) : [];
    return { model: name, results, unknown };
  });

  app.get(
    '/clv/:user',
    { schema: { tags: ['analytics'], operationId: 'clvOf', params: S.SegmentParams, querystring: S.ModelQuery, response: S.replies(S.ClvReply) } },
    async (request) => {
      const { name, model } = registry.ofClass(LifetimeValueModel, request.query.model);
      const customer = known(model.customers, request.params.user);
      if (!model.customers.has(customer)) throw new AffinityError(`unknown customer ${JSON.stringify(request.params.user)} in model ${name}`, ErrorCode.UnknownId);
      const [value] = await engine.run('clv', () => model.valueOf([customer]));
      const segments = registry.list().find((e) => e.model instanceof Segmentation)?.model as Segmentation | undefined;
      const segmentId = segments && resolveId(segments.customers, customer);
      return { model: name, ...value, months: model.options.months, ...(segmentId !== undefined ? { segment: segments!.segmentOf(segmentId).segment } : {}) };
    },
  );

  app.post('/clv', { schema: { tags: ['analytics'], operationId: 'clvOfMany', body: S.ClvBody, response: S.replies(S.ClvListReply) } }, async (request) => {
    const { name, model } = registry.ofClass(LifetimeValueModel, request.body.model);
    const { found, unknown } = partition(model.customers, request.body.customers);
    const results = found.length > 0 ? await engine.run('clv', () => model.valueOf(found)) : [];
    return { model: name, months: model.options.months, results: [...results], unknown };
  });

  app.post('/also-bought', { schema: { tags: ['analytics'], operationId: 'alsoBought', body: S.AlsoBoughtBody, response: S.replies(S.AlsoBoughtReply) } }, async (request) => {
    const { name, model } = registry.ofClass(CoPurchaseRules, request.body.model);
    const view = catalogView(registry, metrics, request.body);
    const items = await engine.run('rules', () => model.alsoBought(knownItems(model.items, request.body.items)!, { k: request.body.k ?? 10, filter: view.filter }));
    return { model: name, items: view.attach(items, (r) => r.item) };
  });

  app.post('/content/recommend', { schema: { tags: ['analytics'], operationId: 'contentRecommend', body: S.ColdStartBody, response: S.replies(S.ColdStartReply) } }, async (request) => {
    const { name, model } = registry.ofClass(ContentRecommender, request.body.model);
    const view = catalogView(registry, metrics, request.body);
    const { options, history } = coldStartRequest(request.body, model.items, view.filter);
    const items = await engine.run('content.recommend', () => (history ? model.recommendFor(history, options) : model.recommend(known(model.users, request.body.user!), options)));
    return { model: name, items: view.attach(items, (r) => r.item) };
  });

  app.post('/content/similar', { schema: { tags: ['analytics'], operationId: 'contentSimilar', body: S.ContentSimilarBody, response: S.replies(S.ContentSimilarReply) } }, async (request) => {
    const { name, model } = registry.ofClass(ContentRecommender, request.body.model);
    const view = catalogView(registry, metrics, request.body);
    const neighbors = model.similarItems(known(model.items, request.body.item), { k: request.body.k ?? 10, filter: view.filter });
    return { model: name, neighbors: view.attach(neighbors, (n) => n.id) };
  });

  app.post('/hybrid/recommend', { schema: { tags: ['analytics'], operationId: 'hybridRecommend', body: S.ColdStartBody, response: S.replies(S.ColdStartReply) } }, async (request) => {
    const { name, model } = registry.ofClass(HybridRecommender, request.body.model);
    const view = catalogView(registry, metrics, request.body);
    const { options, history } = coldStartRequest(request.body, model.content.items, view.filter);
    const items = await engine.run('hybrid.recommend', () => (history ? model.recommendFor(history, options) : model.recommend(request.body.user!, options)));
    return { model: name, items: view.attach(items, (r) => r.item) };
  });
};
