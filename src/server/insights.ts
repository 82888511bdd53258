// Each dashboard page's data from the served models, in one place: the /v1/insights routes answer it and
// `affinity report` inlines it. A page names its model, or takes the first of its kind.
import { PropensityScorer } from '../analytics/churn.js';
import { LifetimeValueModel } from '../analytics/lifetime.js';
import { Segmentation } from '../analytics/segments.js';
import { UpliftModel } from '../analytics/uplift.js';
import { campaignView } from '../insights/campaigns.js';
import { churnView } from '../insights/churn.js';
import { lifetimeView } from '../insights/lifetime.js';
import { qualityView } from '../insights/quality.js';
import { segmentsView } from '../insights/segments.js';
import { isRecommender } from '../models/contract.js';
import type { ModelRegistry } from './registry.js';
import type { Bandit } from '../analytics/bandit.js';
import type { ReadLog } from '../io/decisionlog.js';
import { currentPolicyValue, rewardTimeline } from '../insights/offers.js';

/** Runs heavy work where the server wants it (its engine gate); the report runs it directly. */
export type Runner = <T>(op: string, work: () => T | Promise<T>) => Promise<T>;
export const direct: Runner = async (_op, work) => work();

/**
 * Each page's data once per model object: a reload or an erasure swaps in a new object (and the old entry
 * goes with the old model), so a dashboard polling a page recomputes nothing until the model changes.
 */
const computed = new WeakMap<object, Map<string, Promise<unknown>>>();
function once<T>(model: object, page: string, compute: () => Promise<T>): Promise<T> {
  let pages = computed.get(model);
  if (!pages) computed.set(model, (pages = new Map()));
  let result = pages.get(page) as Promise<T> | undefined;
  if (!result) {
    result = compute();
    pages.set(page, result);
    result.catch(() => pages.delete(page)); // a failure is not kept: the next request tries again
  }
  return result;
}

export const insightPages = {
  churn: async (registry: ModelRegistry, name?: string) => {
    const { name: model, model: m } = registry.ofClass(PropensityScorer, name);
    return { model, ...churnView(m) };
  },
  campaigns: async (registry: ModelRegistry, name?: string) => {
    const { name: model, model: m } = registry.ofClass(UpliftModel, name);
    return { model, ...campaignView(m) };
  },
  lifetime: async (registry: ModelRegistry, name?: string, run: Runner = direct) => {
    const { name: model, model: m } = registry.ofClass(LifetimeValueModel, name);
    return { model, ...(await once(m, 'lifetime', () => run('insights', () => lifetimeView(m)))) };
  },
  segments: async (registry: ModelRegistry, name?: string) => {
    const { name: model, model: m } = registry.ofClass(Segmentation, name);
    return { model, ...segmentsView(m) };
  },
  quality: async (registry: ModelRegistry, name?: string, run: Runner = direct) => {
    const entry = registry.get(name);
    return { model: entry.name, kind: entry.kind, ...(await once(entry.model, 'quality', () => run('insights', () => qualityView(entry.model)))) };
  },
};

/** The offers page's figures from a policy's decision log: rewards over time, the policy valued off-policy. */
export async function offerValuation(log: ReadLog, bandit: Bandit, run: Runner = direct) {
  const estimates = await run('insights', () => currentPolicyValue(log, bandit));
  const finite = (v: number) => (Number.isFinite(v) ? v : null);
  return { timeline: rewardTimeline(log), estimates: estimates.map((e) => ({ ...e, ci: e.ci.map(finite) })) };
}

/** The served models as the overview lists them. */
export function servedModels(registry: ModelRegistry) {
  return registry.list().map((e) => {
    const m = e.model.metadata;
    return { name: e.name, kind: e.kind, recommends: isRecommender(e.model), version: e.version, loadedAt: e.loadedAt.toISOString(), ...(m ? { trainedAt: m.trainedAt, quality: m.quality ?? {}, data: m.data } : {}) };
  });
}
