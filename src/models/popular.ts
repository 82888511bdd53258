// MostPopular: the baseline every recommender must beat, and the fallback for users a model does not know.
// Scores an item by how many users interacted with it.
import type { JobOptions } from '../core/jobs.js';
import type { Id, IdMap } from '../data/ids.js';
import type { Interactions } from '../data/interactions.js';
import type { ModelFile, ModelParts } from '../io/modelfile.js';
import {
  BatchRecommendations,
  candidateTest,
  historyIndices,
  interactionSizes,
  notFitted,
  recommendFilter,
  trainingMetadata,
  withDataSizes,
  splitIds,
  scoresFor,
  type Scores,
  type BatchOptions,
  type History,
  type InteractionModel,
  type Recommendation,
  type RecommendOptions,
  type TrainingMetadata,
} from './contract.js';
import { interactionParts, interactionsFromFile, saveParts } from './parts.js';

export class MostPopular implements InteractionModel {
  static readonly kind = 'popular';
  readonly kind = MostPopular.kind;
  metadata?: TrainingMetadata;
  private state?: { data: Interactions; order: Int32Array; counts: Float64Array }; // order: by descending count, ties by index

  async fit(data: Interactions): Promise<this> {
    this.count(data);
    this.metadata = trainingMetadata(interactionSizes(data), {});
    return this;
  }

  /** fit() without the Promise: one count and one sort of the items. */
  static of(data: Interactions): MostPopular {
    return new MostPopular().count(data);
  }

  private count(data: Interactions): this {
    this.state = { data, order: data.itemsByPopularity(), counts: data.itemCounts() };
    return this;
  }

  /** Erasure: the counts without these users. */
  async withoutCustomers(customers: Id[]): Promise<MostPopular> {
    const { data: rest } = this.s().data.withoutUsers(customers);
    if (rest === this.s().data) return this;
    const model = MostPopular.of(rest);
    model.metadata = withDataSizes(this.metadata, interactionSizes(rest));
    return model;
  }

  get fitted(): boolean {
    return this.state !== undefined;
  }

  private s() {
    if (!this.state) throw notFitted();
    return this.state;
  }

  get data(): Interactions {
    return this.s().data;
  }
  get users(): IdMap {
    return this.s().data.users;
  }
  get items(): IdMap {
    return this.s().data.items;
  }

  recommend(user: Id, options: RecommendOptions = {}): Recommendation[] {
    const { data } = this.s();
    const u = data.users.indexOf(user);
    return this.top(data.csr.indices.subarray(data.csr.indptr[u], data.csr.indptr[u + 1]), options);
  }

  /** For someone the model has not seen: the most popular items, without those in their history when filterSeen. */
  recommendFor(history: History, options: RecommendOptions = {}): Recommendation[] {
    return this.top(historyIndices(this.s().data.items, history).items, options);
  }

  async recommendForAsync(history: History, options: RecommendOptions & JobOptions = {}): Promise<Recommendation[]> {
    return this.recommendFor(history, options); // a walk down a sorted list until k items pass the filters
  }

  private top(seenItems: ArrayLike<number>, options: RecommendOptions): Recommendation[] {
    const { data, order, counts } = this.s();
    const f = recommendFilter(data.items, options);
    if (f.empty) return [];
    const seen = new Set(f.filterSeen ? Array.from(seenItems) : []);
    const exclude = new Set(f.exclude ?? []);
    const allowed = candidateTest(f.candidates);
    const out: Recommendation[] = [];
    for (const i of order) {
      if (out.length >= f.k) break;
      if (seen.has(i) || exclude.has(i) || !allowed(i)) continue;
      out.push({ item: data.items.ids[i], score: counts[i] });
    }
    return out;
  }

  async recommendBatch(users: Id[], options: BatchOptions = {}): Promise<BatchRecommendations> {
    const { data } = this.s();
    const b = splitIds(data.users, users);
    const f = recommendFilter(data.items, options);
    const k = Math.min(f.k, data.itemCount);
    const items = new Int32Array(b.known.length * k).fill(-1);
    const scores = new Float32Array(b.known.length * k);
    b.known.forEach((user, row) =>
      this.recommend(user, { ...options, k }).forEach((r, j) => {
        items[row * k + j] = data.items.indexOf(r.item);
        scores[row * k + j] = r.score;
      }),
    );
    return new BatchRecommendations(k, b.known, items, scores, data.items, b.unknown);
  }

  score(user: Id, items: Id[]): Scores {
    const { data, counts } = this.s();
    data.users.indexOf(user);
    return scoresFor(data.items, items, (idx) => Array.from(idx, (i) => counts[i]));
  }

  async save(path: string): Promise<void> {
    await saveParts(this, path);
  }

  toParts(): ModelParts {
    const { header, arrays } = interactionParts(this.s().data);
    return { kind: MostPopular.kind, header: { ...header, options: {} }, arrays };
  }

  static async fromParts(file: ModelFile): Promise<MostPopular> {
    return new MostPopular().count(await interactionsFromFile(file));
  }
}
