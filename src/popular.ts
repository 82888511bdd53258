// MostPopular: the baseline every recommender must beat. Scores an item by how many users interacted with it.
import { AffinityError, ErrorCode, badInput } from './errors.js';
import { checkId, type Id } from './ids.js';
import type { Interactions } from './interactions.js';
import { intOption } from './jobs.js';
import { BatchRecommendations, type BatchOptions, type Recommendation, type RecommendOptions } from './knn.js';

export class MostPopular {
  private data?: Interactions;
  private order?: Int32Array; // items by descending popularity (ties: lower index)
  private counts?: Float64Array;

  async fit(data: Interactions): Promise<this> {
    this.order = data.itemsByPopularity();
    this.counts = data.itemCounts();
    this.data = data;
    return this;
  }

  private s() {
    if (!this.data || !this.order || !this.counts) throw new AffinityError('call fit() first', ErrorCode.NotFitted);
    return { data: this.data, order: this.order, counts: this.counts };
  }

  recommend(user: Id, options: RecommendOptions = {}): Recommendation[] {
    const { data, order, counts } = this.s();
    checkId(user, 'user');
    const u = data.users.indexOf(user);
    const k = intOption(options.k, 'k', 0, Number.MAX_SAFE_INTEGER, 10);
    const seen = options.filterSeen === false ? new Set<number>() : new Set(data.csr.indices.subarray(data.csr.indptr[u], data.csr.indptr[u + 1]));
    const exclude = new Set(data.items.knownIndices(options.exclude, 'exclude') ?? []);
    const include = data.items.knownIndices(options.include, 'include');
    const allowed = include ? new Set(include) : null;
    const out: Recommendation[] = [];
    for (const i of order) {
      if (out.length >= k) break;
      if (seen.has(i) || exclude.has(i) || (allowed && !allowed.has(i))) continue;
      out.push({ item: data.items.ids[i], score: counts[i] });
    }
    return out;
  }

  async recommendBatch(users: Id[], options: BatchOptions = {}): Promise<BatchRecommendations> {
    const { data } = this.s();
    if (!Array.isArray(users)) throw badInput('users must be an array of ids');
    const k = Math.min(intOption(options.k, 'k', 0, Number.MAX_SAFE_INTEGER, 10), data.itemCount);
    const items = new Int32Array(users.length * k).fill(-1);
    const scores = new Float32Array(users.length * k);
    users.forEach((u, row) =>
      this.recommend(u, { ...options, k }).forEach((r, j) => {
        items[row * k + j] = data.items.indexOf(r.item);
        scores[row * k + j] = r.score;
      }),
    );
    return new BatchRecommendations(k, users, items, scores, data.items);
  }

  score(user: Id, items: Id[]): number[] {
    const { data, counts } = this.s();
    checkId(user, 'user');
    data.users.indexOf(user);
    return items.map((i) => counts[data.items.indexOf(i)]);
  }
}
