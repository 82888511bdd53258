// "Bought A, also bought B": pair rules per basket with support, confidence and lift, counted by the
// native similarity kernels (co-occurrence is a dot product of binary item columns).
import { badInput } from '../core/errors.js';
import { checkId, type Id, type IdMap } from '../data/ids.js';
import { Interactions } from '../data/interactions.js';
import { type JobOptions } from '../core/jobs.js';
import { intOption, numberOption, oneOf } from '../core/options.js';
import { similarity, SimilarityMatrix } from '../models/similarity.js';
import { Transactions } from '../data/transactions.js';
import type { ModelFile, ModelParts } from '../io/modelfile.js';
import { candidateTest, maskOf, trainingMetadata, type TrainingMetadata } from '../models/contract.js';
import type { ItemFilter } from '../data/filter.js';
import { finite64, idMapOf, saveParts } from '../models/parts.js';

export interface RuleOptions extends JobOptions {
  /** Baskets holding both items: a count (>= 1), or a fraction of all baskets when below 1 (default 2). */
  minSupport?: number;
  /** P(B | A) at least this (default 0). With rankBy 'lift' it filters the k best rules by lift. */
  minConfidence?: number;
  /** Lift at least this (default 0). */
  minLift?: number;
  /** Rules kept per antecedent (default 20). */
  k?: number;
  /** 'lift' (default) or 'confidence' (equivalently, co-occurrence count). */
  rankBy?: 'lift' | 'confidence';
}

export interface Rule {
  antecedent: Id;
  consequent: Id;
  /** Baskets with both items. */
  count: number;
  /** count / baskets. */
  support: number;
  /** count / baskets with the antecedent: P(B | A). */
  confidence: number;
  /** confidence / P(B). */
  lift: number;
}

export interface AlsoBought {
  item: Id;
  /** The rank measure of the best rule leading to the item. */
  score: number;
  confidence: number;
  lift: number;
  support: number;
  /** The antecedent of that rule. */
  because: Id;
}

export class CoPurchaseRules {
  static readonly kind = 'rules';
  readonly kind = CoPurchaseRules.kind;
  readonly fitted = true;
  metadata?: TrainingMetadata;

  constructor(
    readonly items: IdMap,
    readonly basketCount: number,
    /** Baskets holding each item. */
    readonly itemCounts: Float64Array,
    /** Per antecedent, its rules (CSR), best first. */
    readonly indptr: Int32Array,
    readonly consequents: Int32Array,
    readonly counts: Float64Array,
    readonly rankBy: 'lift' | 'confidence',
  ) {}

  /** Number of rules. */
  get size(): number {
    return this.consequents.length;
  }

  async save(path: string): Promise<void> {
    await saveParts(this, path);
  }

  toParts(): ModelParts {
    return {
      kind: CoPurchaseRules.kind,
      header: { items: this.items.size, rules: this.size, baskets: this.basketCount, rankBy: this.rankBy, ids: { items: [...this.items.ids] } },
      arrays: { itemCounts: this.itemCounts, indptr: this.indptr, consequents: this.consequents, counts: this.counts },
    };
  }

  static async fromParts(file: ModelFile): Promise<CoPurchaseRules> {
    const { items: n, rules: r, baskets, rankBy } = file.fields;
    if (!Number.isInteger(n) || !Number.isInteger(r) || (n as number) < 0 || (r as number) < 0 || !Number.isInteger(baskets) || (baskets as number) < 1) throw file.corrupt('bad dimensions');
    if (rankBy !== 'lift' && rankBy !== 'confidence') throw file.corrupt('rankBy must be lift or confidence');
    const indptr = file.i32('indptr', (n as number) + 1);
    const consequents = file.i32('consequents', r as number);
    const itemCounts = finite64(file, 'itemCounts', n as number);
    const counts = finite64(file, 'counts', r as number);
    if (indptr[0] !== 0 || indptr[n as number] !== r) throw file.corrupt('rule offsets do not match the rule count');
    for (let a = 0; a < (n as number); a++) {
      if (indptr[a + 1] < indptr[a]) throw file.corrupt('rule offsets decrease');
      if (itemCounts[a] < 0 || itemCounts[a] > (baskets as number)) throw file.corrupt(`item ${a} is in ${itemCounts[a]} of ${baskets as number} baskets`);
      for (let p = indptr[a]; p < indptr[a + 1]; p++) {
        const b = consequents[p];
        // A rule's count is at most the baskets of either item, so confidence and lift stay finite.
        if (b < 0 || b >= (n as number) || b === a) throw file.corrupt(`rule ${p} names item ${b}`);
        if (!(counts[p] >= 1 && counts[p] <= Math.min(itemCounts[a], itemCounts[b]))) throw file.corrupt(`rule ${p} counts ${counts[p]} baskets`);
      }
    }
    const ids = (file.header.ids as { items?: unknown } | undefined)?.items;
    if (!Array.isArray(ids) || ids.length !== n) throw file.corrupt('id maps do not match the dimensions');
    return new CoPurchaseRules(await idMapOf(file, ids, 'item'), baskets as number, itemCounts, indptr, consequents, counts, rankBy);
  }

  private rule(a: number, p: number): Rule {
    const b = this.consequents[p];
    const count = this.counts[p];
    const confidence = count / this.itemCounts[a];
    return {
      antecedent: this.items.ids[a],
      consequent: this.items.ids[b],
      count,
      support: count / this.basketCount,
      confidence,
      lift: confidence / (this.itemCounts[b] / this.basketCount),
    };
  }

  /** The rules of one antecedent, best first. Unknown items throw ERR_AFFINITY_UNKNOWN_ID. */
  rulesFor(item: Id, options: { k?: number } = {}): Rule[] {
    checkId(item, 'item');
    const a = this.items.indexOf(item);
    const k = intOption(options.k, 'k', 0, Number.MAX_SAFE_INTEGER, 10);
    const out: Rule[] = [];
    for (let p = this.indptr[a]; p < this.indptr[a + 1] && out.length < k; p++) out.push(this.rule(a, p));
    return out;
  }

  /** Every rule, best first by the rank measure (ties: more baskets first). */
  top(n = Infinity): Rule[] {
    const all: Rule[] = [];
    for (let a = 0; a < this.items.size; a++) for (let p = this.indptr[a]; p < this.indptr[a + 1]; p++) all.push(this.rule(a, p));
    const key = (r: Rule) => (this.rankBy === 'lift' ? r.lift : r.confidence);
    return all.sort((x, y) => key(y) - key(x) || y.count - x.count).slice(0, n);
  }

  /** Items bought with any of the given ones (a basket or a product page), best rule first; unknown ids are ignored. */
  alsoBought(items: Id[], options: { k?: number; filter?: ItemFilter } = {}): AlsoBought[] {
    if (!Array.isArray(items)) throw badInput('items must be an array of ids');
    const k = intOption(options.k, 'k', 0, Number.MAX_SAFE_INTEGER, 10);
    const allowed = candidateTest(maskOf(this.items, options.filter));
    const given = new Set<number>();
    for (const id of items) {
      checkId(id, 'items');
      const a = this.items.find(id);
      if (a >= 0) given.add(a);
    }
    const best = new Map<Id, AlsoBought>();
    for (const a of given)
      for (let p = this.indptr[a]; p < this.indptr[a + 1]; p++) {
        if (given.has(this.consequents[p]) || !allowed(this.consequents[p])) continue;
        const r = this.rule(a, p);
        const score = this.rankBy === 'lift' ? r.lift : r.confidence;
        const old = best.get(r.consequent);
        if (!old || score > old.score || (score === old.score && r.confidence > old.confidence))
          best.set(r.consequent, { item: r.consequent, score, confidence: r.confidence, lift: r.lift, support: r.support, because: r.antecedent });
      }
    return Array.from(best.values())
      .sort((x, y) => y.score - x.score || y.confidence - x.confidence || String(x.item).localeCompare(String(y.item)))
      .slice(0, k);
  }
}

/** Mines pair rules A -> B from baskets (transactions, or a baskets x items matrix where any value means "in the basket"). */
export async function coPurchaseRules(data: Transactions | Interactions, options: RuleOptions = {}): Promise<CoPurchaseRules> {
  if (options === null || typeof options !== 'object') throw badInput('options must be an object');
  const baskets = data instanceof Transactions ? await data.toBaskets() : data;
  if (!(baskets instanceof Interactions)) throw badInput('data must be Transactions or Interactions (baskets x items)');
  const n = baskets.userCount;
  const rawSupport = numberOption(options.minSupport, 'minSupport', 2, 0);
  const minCount = Math.max(1, rawSupport < 1 ? Math.ceil(rawSupport * n) : rawSupport);
  const minConfidence = numberOption(options.minConfidence, 'minConfidence', 0, 0);
  const minLift = numberOption(options.minLift, 'minLift', 0, 0);
  const k = intOption(options.k, 'k', 1, 100_000, 20);
  const rankBy = oneOf(options.rankBy, 'rankBy', ['lift', 'confidence'] as const, 'lift');

  const itemCounts = baskets.itemCounts();
  // Counting on presence: values other than 1 (summed quantities) must not weigh the dot product.
  const binary = baskets.csr.data.every((v) => v === 1)
    ? baskets
    : Interactions.fromParts(baskets.users, baskets.items, { ...baskets.csr, data: new Float32Array(baskets.csr.data.length).fill(1), timestamps: null });
  const sim = await similarity(binary, {
    measure: rankBy === 'lift' ? 'lift' : 'dot',
    k,
    minSupport: minCount,
    // dot scores are co-occurrence counts (integers): "above minCount - 0.5" is "at least minCount".
    minSimilarity: rankBy === 'lift' ? 0 : minCount - 0.5,
    signal: options.signal,
    onProgress: options.onProgress,
  });
  if (!(sim instanceof SimilarityMatrix)) throw new Error('expected top-K similarity');
  const indptr = new Int32Array(sim.size + 1);
  const consequents: number[] = [];
  const counts: number[] = [];
  for (let a = 0; a < sim.size; a++) {
    for (let p = sim.indptr[a]; p < sim.indptr[a + 1]; p++) {
      const b = sim.indices[p];
      const count = rankBy === 'lift' ? Math.round((sim.data[p] * itemCounts[a] * itemCounts[b]) / n) : sim.data[p];
      const confidence = count / itemCounts[a];
      const lift = (confidence * n) / itemCounts[b];
      if (count < minCount || confidence < minConfidence || lift < minLift) continue;
      consequents.push(b);
      counts.push(count);
    }
    indptr[a + 1] = consequents.length;
  }
  const rules = new CoPurchaseRules(baskets.items, n, itemCounts, indptr, Int32Array.from(consequents), Float64Array.from(counts), rankBy);
  rules.metadata = trainingMetadata({ baskets: n, items: baskets.itemCount, rules: rules.size }, { minSupport: minCount, minConfidence, minLift, k, rankBy });
  return rules;
}
