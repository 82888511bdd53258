// Marketing analytics over HTTP: /v1/segments/:user, /v1/propensity, /v1/also-bought,
// /v1/content/{recommend,similar}, /v1/hybrid/recommend. Each answers 404 ERR_AFFINITY_UNKNOWN_MODEL
// when the server was started without that model.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { PropensityScorer } from '../../analytics/churn.js';
import type { ContentRecommender, HybridRecommender } from '../../models/content.js';
import type { CoPurchaseRules } from '../../analytics/rules.js';
import type { Segmentation } from '../../analytics/segments.js';
import { AffinityError, ErrorCode, badInput } from '../../core/errors.js';
import { resolveId, type Id, type IdMap } from '../../data/ids.js';
import type { EngineDeps } from '../plugins/engine.js';
import * as S from '../schemas.js';

export interface AnalyticsModels {
  segments?: Segmentation;
  propensity?: PropensityScorer;
  rules?: CoPurchaseRules;
  content?: ContentRecommender;
  hybrid?: HybridRecommender;
}

function need<T>(model: T | undefined, name: string): T {
  if (model === undefined) throw new AffinityError(`this server has no ${name} model`, ErrorCode.UnknownModel);
  return model;
}

/** The id as the model spells it ("123" and 123 are the same customer), or the id unchanged. */
function known(ids: IdMap, id: Id): Id {
  return resolveId(ids, id) ?? id;
}

function knownItems(ids: IdMap, list: Id[] | undefined): Id[] | undefined {
  return list?.map((i) => known(ids, i));
}

type ColdStart = { user?: Id; items?: Id[]; values?: number[]; k?: number; filterSeen?: boolean; exclude?: Id[]; include?: Id[] };

function coldStartRequest(body: ColdStart, items: IdMap) {
  if ((body.user === undefined) === (body.items === undefined)) throw badInput('give exactly one of user or items');
  if (body.values !== undefined && body.values.length !== body.items?.length) throw new AffinityError('values must have one entry per item', ErrorCode.DimMismatch);
  const options = { k: body.k ?? 10, filterSeen: body.filterSeen ?? true, exclude: knownItems(items, body.exclude), include: knownItems(items, body.include) };
  const history = body.items ? { items: knownItems(items, body.items)!, values: body.values } : undefined;
  return { options, history };
}

export const analyticsRoutes: FastifyPluginAsyncTypebox<EngineDeps & { models: AnalyticsModels }> = async (app, { engine, models }) => {
  app.get('/segments/:user', { schema: { tags: ['analytics'], operationId: 'segmentOf', params: S.SegmentParams, response: S.replies(S.SegmentReply) } }, async (request) => {
    const segments = need(models.segments, 'segments');
    const user = known(segments.customers, request.params.user);
    const { segment, profile } = segments.segmentOf(user);
    return { model: 'segments', user, segment, profile };
  });

  app.post('/propensity', { schema: { tags: ['analytics'], operationId: 'propensity', body: S.PropensityBody, response: S.replies(S.PropensityReply) } }, async (request) => {
    const scorer = need(models.propensity, 'propensity');
    const customers = request.body.customers.map((c) => known(scorer.dataset.customers, c));
    const results = await engine.run('propensity', () => scorer.score(customers, request.body.attributions ?? 5));
    return { model: 'propensity', results };
  });

  app.post('/also-bought', { schema: { tags: ['analytics'], operationId: 'alsoBought', body: S.AlsoBoughtBody, response: S.replies(S.AlsoBoughtReply) } }, async (request) => {
    const rules = need(models.rules, 'co-purchase rules');
    const items = await engine.run('rules', () => rules.alsoBought(knownItems(rules.items, request.body.items)!, { k: request.body.k ?? 10 }));
    return { model: 'rules', items };
  });

  app.post('/content/recommend', { schema: { tags: ['analytics'], operationId: 'contentRecommend', body: S.ColdStartBody, response: S.replies(S.ColdStartReply) } }, async (request) => {
    const content = need(models.content, 'content');
    const { options, history } = coldStartRequest(request.body, content.items);
    const items = await engine.run('content.recommend', () =>
      history ? content.recommendFor(history, options) : content.recommend(request.body.user!, options),
    );
    return { model: 'content', items };
  });

  app.post('/content/similar', { schema: { tags: ['analytics'], operationId: 'contentSimilar', body: S.ContentSimilarBody, response: S.replies(S.ContentSimilarReply) } }, async (request) => {
    const content = need(models.content, 'content');
    const neighbors = content.similarItems(known(content.items, request.body.item), { k: request.body.k ?? 10 });
    return { model: 'content', neighbors };
  });

  app.post('/hybrid/recommend', { schema: { tags: ['analytics'], operationId: 'hybridRecommend', body: S.ColdStartBody, response: S.replies(S.ColdStartReply) } }, async (request) => {
    const hybrid = need(models.hybrid, 'hybrid');
    const { options, history } = coldStartRequest(request.body, hybrid.content.items);
    const items = await engine.run('hybrid.recommend', () => (history ? hybrid.recommendFor(history, options) : hybrid.recommend(request.body.user!, options)));
    return { model: 'hybrid', items };
  });
};
