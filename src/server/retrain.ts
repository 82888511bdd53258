// Retraining from the events store: train a candidate on the events of a window, check it against the
// serving model on the latest day it has not seen, and keep it only when it is not worse by more than a
// margin. The one place the decision is made: `affinity retrain`, its --every loop and the server share it.
import { badInput } from '../core/errors.js';
import type { JobOptions } from '../core/jobs.js';
import type { Id } from '../data/ids.js';
import { Interactions } from '../data/interactions.js';
import { strengthOf, type StoredEvent } from '../events/event.js';
import type { EventStore } from '../events/store.js';
import type { InteractionModel, Recommender } from '../models/contract.js';

export interface RetrainOptions extends JobOptions {
  store: EventStore;
  /** A new untrained model of the kind to train (each call gets a fresh one). */
  build: () => InteractionModel;
  /** The model being served, to compare against (none: the candidate is kept). */
  serving?: Recommender;
  /** Train on the last `windowDays` days of events (default: all of them). */
  windowDays?: number;
  /** Keep the candidate when its nDCG@10 is at least the serving model's minus this (default 0.005). */
  margin?: number;
  /** The held-out latest period, in days (default 1). */
  holdoutDays?: number;
  /** Holdout customers scored at most (default 5,000; a deterministic sample past it). */
  maxHoldoutUsers?: number;
  now?: number;
}

export interface RetrainDecision {
  /** True when the new model should replace the serving one. */
  swap: boolean;
  reason: string;
  ndcg: { candidate: number; serving: number | null };
  holdout: { users: number; from: string };
  data: { events: number; users: number; items: number };
  /** The store's seq the new model was trained through: events after it are fresh to it. */
  throughSeq: number;
  at: string;
}

/** The interactions of events: strength per (customer, item), summed; the events without an item left out. */
async function interactionsOf(events: StoredEvent[]): Promise<Interactions> {
  const withItem = events.filter((e) => e.item !== null);
  return Interactions.fromArrays({ users: withItem.map((e) => e.customer), items: withItem.map((e) => e.item!), values: withItem.map((e) => strengthOf(e)) });
}

/** nDCG@k of a ranked list against the items that followed. */
export function ndcgAt(ranked: readonly Id[], truth: ReadonlySet<Id>, k = 10): number {
  let dcg = 0;
  ranked.slice(0, k).forEach((item, r) => truth.has(item) && (dcg += 1 / Math.log2(r + 2)));
  let ideal = 0;
  for (let r = 0; r < Math.min(truth.size, k); r++) ideal += 1 / Math.log2(r + 2);
  return ideal === 0 ? 0 : dcg / ideal;
}

/** Mean nDCG@10 of a model on held-out customers: what it recommends (from their earlier items when it does not know them). */
async function holdoutNdcg(model: Recommender, users: { user: Id; past: { item: Id; value: number }[]; truth: Set<Id> }[]): Promise<number> {
  let sum = 0;
  for (const u of users) {
    let ranked: Id[] = [];
    if (model.users.has(u.user)) ranked = model.recommend(u.user, { k: 10 }).map((r) => r.item);
    else if (model.recommendForAsync && u.past.length > 0)
      ranked = (await model.recommendForAsync({ items: u.past.map((p) => p.item), values: u.past.map((p) => p.value) }, { k: 10 })).map((r) => r.item);
    sum += ndcgAt(ranked, u.truth);
  }
  return users.length === 0 ? 0 : sum / users.length;
}

/** Trains a candidate from the store and decides whether it replaces the serving model (see the module). */
export async function retrainFromStore(options: RetrainOptions): Promise<{ model?: InteractionModel; decision: RetrainDecision }> {
  const { store } = options;
  const now = options.now ?? Date.now();
  const margin = options.margin ?? 0.005;
  const holdoutDays = options.holdoutDays ?? 1;
  if (!(margin >= 0) || !(holdoutDays > 0)) throw badInput('margin must be >= 0 and holdoutDays > 0');
  if (options.windowDays !== undefined && !(options.windowDays > 0)) throw badInput('windowDays must be a positive number of days');
  const throughSeq = await store.lastSeq();
  const gone = await store.tombstones();
  const events: StoredEvent[] = [];
  const from = options.windowDays === undefined ? undefined : now - options.windowDays * 86_400_000;
  for await (const page of store.pages({ from, throughSeq })) {
    if (options.signal?.aborted) throw options.signal.reason;
    for (const e of page) if (e.item !== null && !(e.time <= (gone.get(e.customer) ?? -Infinity))) events.push(e); // a tombstone's erasure is final, even for rows a retention race left
  }
  if (events.length === 0) throw badInput('the store holds no events with items in the window: nothing to train on');
  const latest = events.reduce((t, e) => Math.max(t, e.time), -Infinity);
  const cut = latest - holdoutDays * 86_400_000;
  const train = await interactionsOf(events.filter((e) => e.time <= cut));
  const later = events.filter((e) => e.time > cut);

  // Held-out customers: what they did on the latest day that they had not done before.
  const byUser = new Map<Id, Set<Id>>();
  for (const e of later) {
    const seen = train.users.has(e.customer) ? new Set(train.itemsOf(e.customer).map((p) => p.item)) : undefined;
    if (seen?.has(e.item!)) continue;
    let truth = byUser.get(e.customer);
    if (!truth) byUser.set(e.customer, (truth = new Set()));
    truth.add(e.item!);
  }
  let holdout = [...byUser].filter(([user]) => train.users.has(user)).map(([user, truth]) => ({ user, truth, past: train.itemsOf(user) }));
  const cap = options.maxHoldoutUsers ?? 5000;
  if (holdout.length > cap) holdout = holdout.filter((_, n) => n % Math.ceil(holdout.length / cap) === 0);

  let candidateScore = 0;
  let servingScore: number | null = null;
  if (holdout.length > 0 && train.size > 0) {
    const candidate = await options.build().fit(train, { signal: options.signal });
    candidateScore = await holdoutNdcg(candidate, holdout);
    if (options.serving) servingScore = await holdoutNdcg(options.serving, holdout);
  }
  const swap = holdout.length === 0 || servingScore === null || candidateScore >= servingScore - margin;
  const reason =
    holdout.length === 0
      ? 'no customer on the latest day had earlier history to check against: kept without a comparison'
      : servingScore === null
        ? 'nothing served to compare with'
        : swap
          ? `nDCG@10 ${candidateScore.toFixed(4)} is within ${margin} of the serving model's ${servingScore.toFixed(4)} or better`
          : `nDCG@10 ${candidateScore.toFixed(4)} is worse than the serving model's ${servingScore.toFixed(4)} by more than ${margin}`;
  // The model that serves learns from every event, the latest day included.
  const all = await interactionsOf(events);
  const model = swap ? await options.build().fit(all, { signal: options.signal, onProgress: options.onProgress }) : undefined;
  const decision: RetrainDecision = {
    swap,
    reason,
    ndcg: { candidate: candidateScore, serving: servingScore },
    holdout: { users: holdout.length, from: new Date(cut).toISOString() },
    data: { events: events.length, users: all.userCount, items: all.itemCount },
    throughSeq,
    at: new Date(now).toISOString(),
  };
  if (model?.metadata) {
    model.metadata.data = { ...model.metadata.data, storeSeq: throughSeq, events: events.length };
    model.metadata.quality = { ...model.metadata.quality, holdoutNdcg10: candidateScore };
  }
  return { model, decision };
}
