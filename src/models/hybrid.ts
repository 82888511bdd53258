// A hybrid of a content model and a collaborative one, for users and items with little history. Its file
// embeds both models as parts, so one file ships and reloads the whole blend.
import { AffinityError, ErrorCode, badInput } from '../core/errors.js';
import { intOption, numberOption } from '../core/options.js';
import { checkId, type Id } from '../data/ids.js';
import type { Interactions } from '../data/interactions.js';
import type { ModelFile, ModelParts } from '../io/modelfile.js';
import { ContentRecommender } from './content.js';
import { isRecommender, trainingMetadata, type History, type PartLoader, type Recommendation, type Recommender, type RecommendOptions, type TrainingMetadata } from './contract.js';
import { fromFile, idMapOf, optionsOf, partsWithMeta, saveParts } from './parts.js';

export interface HybridOptions {
  /** Share of the content score in the blend, in [0, 1] (default 0.3). */
  contentWeight?: number;
  /** Users with fewer interactions get content recommendations only (default 3). */
  minUserInteractions?: number;
  /** Items with fewer interactions are scored by content alone (default 5). */
  minItemInteractions?: number;
  /** Candidates taken from each model before blending, beyond k (default 100). */
  candidates?: number;
}

/** Interactions per item and per user of the training data: what decides "cold". */
interface Counts {
  items: Map<Id, number>;
  users: Map<Id, number>;
}

/**
 * Blends a content model with a collaborative one (ALS or ItemKNN). Each model's candidate scores are
 * min-max normalized to [0, 1]; score = w·content + (1 - w)·collaborative, except that items with few
 * interactions keep their content score (the collaborative one is noise there) and users with few
 * interactions get content alone.
 */
export class HybridRecommender {
  static readonly kind = 'hybrid';
  readonly kind = HybridRecommender.kind;
  readonly fitted = true;
  metadata?: TrainingMetadata;
  private readonly counts: Counts;
  private readonly o: Required<HybridOptions>;

  constructor(
    readonly content: ContentRecommender,
    readonly collaborative: Recommender,
    data: Interactions | Counts,
    options: HybridOptions = {},
  ) {
    if (!(content instanceof ContentRecommender)) throw badInput('content must be a fitted ContentRecommender');
    if (collaborative === null || typeof collaborative !== 'object' || !isRecommender(collaborative)) throw badInput('collaborative must be a fitted recommender (ALS, ItemKNN...)');
    const w = numberOption(options.contentWeight, 'contentWeight', 0.3, 0);
    if (w > 1) throw badInput('contentWeight must be in [0, 1]');
    this.o = {
      contentWeight: w,
      minUserInteractions: intOption(options.minUserInteractions, 'minUserInteractions', 0, 0x7ffffffe, 3),
      minItemInteractions: intOption(options.minItemInteractions, 'minItemInteractions', 0, 0x7ffffffe, 5),
      candidates: intOption(options.candidates, 'candidates', 1, 100_000, 100),
    };
    if ('items' in data && data.items instanceof Map) this.counts = data as Counts;
    else {
      const d = data as Interactions;
      this.counts = { items: new Map(), users: new Map() };
      d.itemCounts().forEach((c, i) => this.counts.items.set(d.items.ids[i], c));
      for (let u = 0; u < d.userCount; u++) this.counts.users.set(d.users.ids[u], d.csr.indptr[u + 1] - d.csr.indptr[u]);
      this.metadata = trainingMetadata({ interactions: d.csr.indices.length, users: d.userCount, items: d.itemCount }, this.o);
    }
  }

  /** For a known user: blended, or content alone when the user has few interactions. */
  recommend(user: Id, options: RecommendOptions = {}): Recommendation[] {
    checkId(user, 'user');
    const count = this.counts.users.get(user);
    if (count === undefined) throw new AffinityError(`unknown user ${JSON.stringify(user)}`, ErrorCode.UnknownId);
    const pool = { ...options, k: this.pool(options) };
    const content = this.content.knowsUser(user) ? this.content.recommend(user, pool) : [];
    if (count < this.o.minUserInteractions) return content.slice(0, options.k ?? 10);
    return this.blend(content, this.collaborative.recommend(user, pool), options.k ?? 10);
  }

  /** For a visitor from their items: blended when the collaborative model can take a history (ALS), else content. */
  recommendFor(history: History, options: RecommendOptions = {}): Recommendation[] {
    const pool = { ...options, k: this.pool(options) };
    const content = this.content.recommendFor(history, pool);
    if (!this.collaborative.recommendFor || history.items.length < this.o.minUserInteractions) return content.slice(0, options.k ?? 10);
    return this.blend(content, this.collaborative.recommendFor(history, pool), options.k ?? 10);
  }

  /** True when the user is in the training data (recommend() knows them). */
  knowsUser(user: Id): boolean {
    return this.counts.users.has(user);
  }

  private pool(options: RecommendOptions): number {
    return intOption(options.k, 'k', 0, 100_000, 10) + this.o.candidates;
  }

  private blend(content: Recommendation[], collaborative: Recommendation[], k: number): Recommendation[] {
    const c = normalized(content);
    const f = normalized(collaborative);
    const w = this.o.contentWeight;
    const out: Recommendation[] = [];
    for (const item of new Set([...c.keys(), ...f.keys()])) {
      const cs = c.get(item) ?? 0;
      const cold = (this.counts.items.get(item) ?? 0) < this.o.minItemInteractions;
      out.push({ item, score: cold ? cs : w * cs + (1 - w) * (f.get(item) ?? 0) });
    }
    return out.sort((a, b) => b.score - a.score || String(a.item).localeCompare(String(b.item))).slice(0, k);
  }

  async save(path: string): Promise<void> {
    await saveParts(this, path);
  }

  toParts(): ModelParts {
    const items = [...this.counts.items];
    const users = [...this.counts.users];
    return {
      kind: HybridRecommender.kind,
      header: { options: this.o, countedItems: items.length, countedUsers: users.length, ids: { items: items.map(([id]) => id), users: users.map(([id]) => id) } },
      arrays: { itemCounts: Int32Array.from(items, ([, c]) => c), userCounts: Int32Array.from(users, ([, c]) => c) },
      parts: { content: partsWithMeta(this.content), collaborative: partsWithMeta(this.collaborative) },
    };
  }

  static async fromParts(file: ModelFile, loadPart: PartLoader): Promise<HybridRecommender> {
    const [n, u] = [file.fields.countedItems, file.fields.countedUsers];
    if (![n, u].every((x) => Number.isInteger(x) && (x as number) >= 0)) throw file.corrupt('bad dimensions');
    const itemCounts = file.i32('itemCounts', n as number);
    const userCounts = file.i32('userCounts', u as number);
    const options = optionsOf(file);
    const ids = file.header.ids as { items?: unknown; users?: unknown } | undefined;
    if (!Array.isArray(ids?.items) || ids.items.length !== n || !Array.isArray(ids?.users) || ids.users.length !== u) throw file.corrupt('id maps do not match the dimensions');
    const items = await idMapOf(file, ids.items, 'item');
    const users = await idMapOf(file, ids.users, 'user');
    const counts: Counts = { items: new Map(items.ids.map((id, i) => [id, itemCounts[i]])), users: new Map(users.ids.map((id, i) => [id, userCounts[i]])) };
    const content = await loadPart(file.part('content'));
    const collaborative = await loadPart(file.part('collaborative'));
    if (!(content instanceof ContentRecommender)) throw file.corrupt(`part content holds a ${content.kind} model`);
    if (!isRecommender(collaborative)) throw file.corrupt(`part collaborative holds a ${collaborative.kind} model, which does not recommend`);
    return fromFile(file, () => new HybridRecommender(content, collaborative, counts, options as HybridOptions));
  }
}

function normalized(list: Recommendation[]): Map<Id, number> {
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of list) (lo = Math.min(lo, r.score)), (hi = Math.max(hi, r.score));
  const span = hi - lo;
  return new Map(list.map((r) => [r.item, span > 0 ? (r.score - lo) / span : 1]));
}
