// What the recommendation-quality page charts: the loss (or ranking accuracy) per training iteration, the
// figures of the last evaluation, and what the model recommends: catalogue coverage and popularity bias of
// top-10 lists for a sample of its users.
import type { JobOptions } from '../core/jobs.js';
import { sampleRows, type Recommender } from '../models/contract.js';

export interface QualityView {
  curves: Record<string, number[]>;
  figures: Record<string, number>;
  /** Absent when the model keeps no training interactions to compare with. */
  lists?: {
    users: number;
    k: number;
    /** Share of the catalogue that appears in some list. */
    coverage: number;
    /** Mean popularity percentile (0 = least, 1 = most bought) of recommended items, and of the items users had. */
    recommendedPopularity: number;
    historyPopularity: number;
    /** Share of recommendations that are among the 10% most popular items. */
    topDecileShare: number;
  };
}

export async function qualityView(model: Recommender, options: { users?: number; k?: number } & JobOptions = {}): Promise<QualityView> {
  const { users = 500, k = 10, signal } = options;
  const view: QualityView = { curves: model.metadata?.curves ?? {}, figures: model.metadata?.quality ?? {} };
  const data = model.data;
  if (!data || data.itemCount === 0 || data.userCount === 0) return view;
  const counts = data.itemCounts();
  // Percentile rank of each item by how many users had it (ties share the mean rank).
  const order = Array.from(counts.keys()).sort((a, b) => counts[a] - counts[b]);
  const percentile = new Float64Array(counts.length);
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end < order.length && counts[order[end]] === counts[order[start]]) end++;
    const rank = order.length > 1 ? (start + end - 1) / 2 / (order.length - 1) : 1;
    for (let i = start; i < end; i++) percentile[order[i]] = rank;
    start = end;
  }
  const chosen = sampleRows(data.userCount, users).map((u) => data.users.ids[u]);
  const batch = await model.recommendBatch(chosen, { k, signal });
  const seen = new Set<number>();
  let n = 0, popularity = 0, topDecile = 0;
  const itemRow = (item: number) => (model.items === data.items ? item : data.items.find(model.items.ids[item]));
  for (const item of batch.items) {
    if (item < 0) continue;
    const row = itemRow(item);
    if (row < 0) continue;
    seen.add(row);
    n++;
    popularity += percentile[row];
    topDecile += percentile[row] >= 0.9 ? 1 : 0;
  }
  let h = 0, history = 0;
  for (const user of chosen) for (const { item } of data.itemsOf(user)) (history += percentile[data.items.find(item)]), h++;
  view.lists = { users: batch.users.length, k, coverage: seen.size / data.itemCount, recommendedPopularity: n ? popularity / n : 0, historyPopularity: h ? history / h : 0, topDecileShare: n ? topDecile / n : 0 };
  return view;
}
