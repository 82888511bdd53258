// One customer as every served model sees them, for the dashboard's customer view: what they did, their
// segment, churn risk, lifetime value, recommendations with their reasons, and the offer a policy would
// choose. Each part is there only when a model of its kind is served and knows the customer.
import { PropensityScorer } from '../analytics/churn.js';
import { LifetimeValueModel } from '../analytics/lifetime.js';
import { Segmentation } from '../analytics/segments.js';
import { AffinityError, ErrorCode } from '../core/errors.js';
import { checkId, resolveId, type Id, type IdMap } from '../data/ids.js';
import { isRecommender, type Recommender } from '../models/contract.js';
import type { ModelEntry } from './registry.js';
import { batcherFor } from './batcher.js';
import type { AffinityContext } from './context.js';
import type { OfferService } from './offers.js';
import type { Static } from 'typebox';
import type { CustomerInsightsReply } from './schemas.js';

export type CustomerView = Static<typeof CustomerInsightsReply>;

/** How much of a history the view carries: the most valuable trained items, the latest events. */
const TRAINED_ITEMS = 50;
const RECENT_EVENTS = 200;
const RECOMMENDATIONS = 5;
const REASONS = 3;

type Label = { name?: string; category?: string };

function labelOf(ctx: AffinityContext, item: Id | null): Label {
  const catalog = ctx.registry.catalog?.catalog;
  if (!catalog || item === null) return {};
  const fields = ['name', 'category'].filter((f) => catalog.attributes.includes(f));
  const a = catalog.attributesOf(item, fields);
  const out: Label = {};
  if (a && typeof a.name === 'string') out.name = a.name;
  if (a && typeof a.category === 'string') out.category = a.category;
  return out;
}

function firstOf<T>(ctx: AffinityContext, cls: { kind: string; prototype: T }, ids: (m: T) => IdMap, customer: Id): { name: string; model: T; id: Id } | undefined {
  for (const e of ctx.registry.list()) {
    if (e.kind !== cls.kind || !(e.model instanceof (cls as unknown as new () => T))) continue;
    const model = e.model as T;
    const id = resolveId(ids(model), customer);
    if (id !== undefined) return { name: e.name, model, id };
  }
  return undefined;
}

export async function customerView(ctx: AffinityContext, customer: Id, offers: OfferService | undefined): Promise<CustomerView> {
  checkId(customer, 'customer');
  const { registry, engine } = ctx;
  const recommender = registry.list().find((e) => isRecommender(e.model) && resolveId(e.model.users, customer) !== undefined);
  const segments = firstOf(ctx, Segmentation, (m) => m.customers, customer);
  const churn = firstOf(ctx, PropensityScorer, (m) => m.dataset.customers, customer);
  const lifetime = firstOf(ctx, LifetimeValueModel, (m) => m.customers, customer);
  const events = ctx.events ? (await ctx.events.store.eventsOf(customer)).slice(-RECENT_EVENTS) : [];
  if (!recommender && !segments && !churn && !lifetime && events.length === 0) {
    throw new AffinityError(`no served model and no stored event knows customer ${JSON.stringify(customer)}`, ErrorCode.UnknownId);
  }
  const trained = recommender && isRecommender(recommender.model) ? recommender.model.data?.itemsOf(resolveId(recommender.model.users, customer)!) ?? [] : [];
  const view: CustomerView = { customer, history: {
    trained: trained.sort((a, b) => b.value - a.value).slice(0, TRAINED_ITEMS).map((t) => ({ ...t, ...labelOf(ctx, t.item) })),
    trainedCount: trained.length,
    events: events.map((e) => ({ type: e.type, item: e.item, value: e.value, amount: e.amount, time: e.time, ...labelOf(ctx, e.item) })),
  } };
  if (segments) {
    const { segment, profile } = segments.model.segmentOf(segments.id);
    view.segment = { model: segments.name, segment, profile };
  }
  if (churn) {
    const [result] = await engine.run('propensity', () => churn.model.score([churn.id], 5));
    view.churn = { model: churn.name, probability: result.probability, attributions: result.attributions };
  }
  if (lifetime) {
    const [value] = await engine.run('clv', () => lifetime.model.valueOf([lifetime.id]));
    view.value = { model: lifetime.name, months: lifetime.model.options.months, ...value };
  }
  if (recommender && isRecommender(recommender.model)) {
    const model = recommender.model;
    const user = resolveId(model.users, customer)!;
    // As POST /v1/recommend answers: events since training folded in, full scans off the event loop.
    const fresh = ctx.events ? await ctx.events.historyFor(recommender as ModelEntry<Recommender>, customer) : undefined;
    const items = fresh
      ? await engine.run(`${recommender.kind}.fresh`, () => model.recommendForAsync!(fresh.history, { k: RECOMMENDATIONS }))
      : await engine.run(`${recommender.kind}.recommend`, () => (model.prepare ? batcherFor(model).recommend(user, RECOMMENDATIONS) : model.recommend(user, { k: RECOMMENDATIONS })));
    view.recommendations = {
      model: recommender.name,
      ...(fresh ? { fresh: fresh.fresh } : {}),
      items: items.map((r) => ({
        item: r.item,
        score: r.score,
        ...labelOf(ctx, r.item),
        because: model.explain ? model.explain(user, r.item, { k: REASONS }).contributions.map((c) => ({ item: c.item, share: c.share, ...labelOf(ctx, c.item) })) : [],
      })),
    };
  }
  if (offers && offers.names.length > 0) {
    try {
      view.offer = offers.preview(customer);
    } catch (err) {
      if (!(err instanceof AffinityError) || err.code !== ErrorCode.UnknownId) throw err;
    }
  }
  return view;
}
