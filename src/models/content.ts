// Content-based recommendations: TF-IDF vectors of item text and categories, user interest vectors, and a
// hybrid that blends content and collaborative scores for users and items with little history.
import { native, type NativeCsr, type NativeKnnModel } from '../core/native.js';
import { AffinityError, ErrorCode, badInput } from '../core/errors.js';
import { runJob, type JobOptions } from '../core/jobs.js';
import { intOption, numberOption } from '../core/options.js';
import { checkId, IdMap, type Id } from '../data/ids.js';
import { Interactions } from '../data/interactions.js';
import { csrArrays, type ModelFile, type ModelParts } from '../io/modelfile.js';
import {
  BatchRecommendations,
  candidateTest,
  historyIndices,
  kOption,
  maskOf,
  recommendFilter,
  trainingMetadata,
  splitIds,
  scoresFor,
  type Scores,
  type BatchOptions,
  type History,
  type Neighbor,
  type NeighborOptions,
  type Recommendation,
  type Recommender,
  type RecommendOptions,
  type TrainingMetadata,
} from './contract.js';
import { twoHopRecommend } from './knn.js';
import { fromFile, idMapOf, optionsOf, saveParts } from './parts.js';
import { similarity, SimilarityMatrix } from './similarity.js';

// Scripts written without spaces between words (with the Japanese long-vowel and repetition marks, which
// Unicode files under Common script): split into overlapping character bigrams.
const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}\u30FC\u3005]/u;

export interface TokenizeOptions {
  /** Shortest word kept, in characters (default 2; numbers are always kept). */
  minLength?: number;
  stopwords?: ReadonlySet<string>;
}

/**
 * Unicode-aware tokens: NFKC, lower case, runs of letters, marks and digits; runs in scripts without
 * spaces (Chinese, Japanese, Thai...) become character bigrams ("推荐系统" -> "推荐", "荐系", "系统").
 */
export function tokenize(text: string, options: TokenizeOptions = {}): string[] {
  if (typeof text !== 'string') throw badInput('text must be a string');
  const minLength = options.minLength ?? 2;
  const out: string[] = [];
  const word = (w: string) => {
    if (w.length === 0) return;
    if ((Array.from(w).length >= minLength || /^\p{N}+$/u.test(w)) && !options.stopwords?.has(w)) out.push(w);
  };
  const bigrams = (chars: string[]) => {
    if (chars.length === 1) out.push(chars[0]);
    for (let i = 0; i + 1 < chars.length; i++) out.push(chars[i] + chars[i + 1]);
  };
  for (const m of text.normalize('NFKC').toLowerCase().matchAll(/[\p{L}\p{M}\p{N}]+/gu)) {
    let plain = '';
    let unspaced: string[] = [];
    for (const ch of m[0]) {
      if (UNSPACED.test(ch)) {
        word(plain);
        plain = '';
        unspaced.push(ch);
      } else {
        if (unspaced.length) bigrams(unspaced);
        unspaced = [];
        plain += ch;
      }
    }
    word(plain);
    if (unspaced.length) bigrams(unspaced);
  }
  return out;
}

export interface CatalogItem {
  id: Id;
  text?: string;
  categories?: string | string[];
}

export interface ContentOptions extends TokenizeOptions {
  /** Neighbours kept per item for similarItems (default 50). */
  k?: number;
  /** Terms in fewer items than this are dropped (default 1). */
  minDf?: number;
  /** Terms in more than this fraction of items are dropped (default 0.5). */
  maxDf?: number;
  /** Weight of each category term relative to a word (default 1). */
  categoryWeight?: number;
  threads?: number;
}

/**
 * TF-IDF over item text and categories: tf = 1 + ln(count), idf = ln((1 + N) / (1 + df)) + 1, each item
 * vector L2-normalized. A user's interest vector is the interaction-weighted sum of their items' vectors,
 * normalized; an item scores the cosine between it and that vector.
 */
export class ContentRecommender implements Recommender {
  static readonly kind = 'content';
  readonly kind = ContentRecommender.kind;
  metadata?: TrainingMetadata;
  items = new IdMap([], 'item');
  /** The users of the interactions given to fit (none without them). */
  users = new IdMap([], 'user');
  vocabulary: string[] = [];
  private vectors?: NativeCsr; // items x terms
  private termItems?: NativeCsr; // terms x items
  private sim?: SimilarityMatrix;
  private history?: NativeCsr; // users x items (this model's item indices)
  private profiles?: NativeKnnModel;
  private readonly o: Required<Omit<ContentOptions, 'stopwords'>> & Pick<ContentOptions, 'stopwords'>;

  constructor(options: ContentOptions = {}) {
    this.o = {
      k: intOption(options.k, 'k', 1, 100_000, 50),
      minDf: intOption(options.minDf, 'minDf', 1, 0x7ffffffe, 1),
      maxDf: numberOption(options.maxDf, 'maxDf', 0.5, Number.MIN_VALUE),
      categoryWeight: numberOption(options.categoryWeight, 'categoryWeight', 1, 0),
      minLength: intOption(options.minLength, 'minLength', 1, 100, 2),
      threads: intOption(options.threads, 'threads', 0, 256, 0),
      stopwords: options.stopwords,
    };
  }

  /**
   * Builds item vectors from the catalogue and, when given, user interest vectors from interactions (users x
   * items). Interacted items missing from the catalogue have no content and are ignored.
   */
  async fit(catalog: CatalogItem[], interactions?: Interactions, options: JobOptions = {}): Promise<this> {
    if (!Array.isArray(catalog) || catalog.length === 0) throw badInput('catalog must be a non-empty array of { id, text?, categories? }');
    const ids: Id[] = [];
    const docs: Map<string, number>[] = [];
    for (const [i, entry] of catalog.entries()) {
      if (entry === null || typeof entry !== 'object') throw badInput(`catalog[${i}] must be an object`);
      checkId(entry.id, `catalog[${i}].id`);
      if (entry.text !== undefined && typeof entry.text !== 'string') throw badInput(`catalog[${i}].text must be a string`);
      const terms = new Map<string, number>();
      for (const t of tokenize(entry.text ?? '', this.o)) terms.set(t, (terms.get(t) ?? 0) + 1);
      const cats = entry.categories === undefined ? [] : Array.isArray(entry.categories) ? entry.categories : [entry.categories];
      for (const c of cats) {
        if (typeof c !== 'string') throw badInput(`catalog[${i}].categories must be strings`);
        terms.set(`category:${c.normalize('NFKC').toLowerCase()}`, this.o.categoryWeight);
      }
      ids.push(entry.id);
      docs.push(terms);
    }
    const items = new IdMap(ids, 'item');
    if (new Set(ids).size !== ids.length) throw badInput('catalog ids must be unique');
    const n = docs.length;
    const df = new Map<string, number>();
    for (const d of docs) for (const t of d.keys()) df.set(t, (df.get(t) ?? 0) + 1);
    const vocabulary = Array.from(df.keys())
      .filter((t) => {
        const f = df.get(t)!;
        return f >= this.o.minDf && (f / n <= this.o.maxDf || t.startsWith('category:'));
      })
      .sort();
    const termIndex = new Map(vocabulary.map((t, i) => [t, i]));
    const rows: number[] = [];
    const cols: number[] = [];
    const values: number[] = [];
    docs.forEach((d, r) => {
      const start = values.length;
      for (const [t, count] of d) {
        const c = termIndex.get(t);
        if (c === undefined) continue;
        const tf = t.startsWith('category:') ? count : 1 + Math.log(count);
        rows.push(r);
        cols.push(c);
        values.push(tf * (Math.log((1 + n) / (1 + df.get(t)!)) + 1));
      }
      let norm = 0;
      for (let p = start; p < values.length; p++) norm += values[p] * values[p];
      norm = Math.sqrt(norm);
      for (let p = start; p < values.length; p++) values[p] /= norm;
    });
    const vectors = await runJob(options, (cancel, progress) =>
      native.buildCsr(Int32Array.from(rows), Int32Array.from(cols), Float32Array.from(values), null, n, vocabulary.length, 'sum', cancel, progress),
    );
    let history: NativeCsr | undefined;
    let users: IdMap | undefined;
    if (interactions !== undefined) {
      if (!(interactions instanceof Interactions)) throw badInput('interactions must be an Interactions object');
      const map = Int32Array.from(interactions.items.ids, (id) => items.find(id));
      const r: number[] = [];
      const c: number[] = [];
      const v: number[] = [];
      const csr = interactions.csr;
      for (let u = 0; u < csr.rows; u++)
        for (let p = csr.indptr[u]; p < csr.indptr[u + 1]; p++) {
          const i = map[csr.indices[p]];
          if (i < 0) continue;
          r.push(u);
          c.push(i);
          v.push(csr.data[p]);
        }
      history = await native.buildCsr(Int32Array.from(r), Int32Array.from(c), Float32Array.from(v), null, csr.rows, n, 'sum', null, null);
      users = interactions.users;
    }
    const termItems = await native.transpose(vectors, null, null);
    // Item-item cosine through the similarity kernels: the items are the columns of terms x items.
    const sim = await similarity(Interactions.fromParts(new IdMap(vocabulary, 'user'), items, termItems), {
      measure: 'cosine',
      k: this.o.k,
      threads: this.o.threads,
      signal: options.signal,
    });
    if (!(sim instanceof SimilarityMatrix)) throw new AffinityError('expected a top-K similarity', ErrorCode.Internal);
    await this.install({ items, vocabulary, vectors, termItems, sim, users, history }, options);
    const { stopwords, ...o } = this.o;
    this.metadata = trainingMetadata({ items: items.size, terms: vocabulary.length, users: users?.size ?? 0, interactions: history?.indices.length ?? 0 }, { ...o, stopwords: stopwords?.size ?? 0 });
    return this;
  }

  /** Installs fitted or loaded parts, building the users' interest vectors from their histories. */
  private async install(
    parts: { items: IdMap; vocabulary: string[]; vectors: NativeCsr; termItems: NativeCsr; sim: SimilarityMatrix; users?: IdMap; history?: NativeCsr },
    options: JobOptions = {},
  ): Promise<this> {
    let profiles: NativeKnnModel | undefined;
    const { history, vectors, termItems } = parts;
    if (history) {
      const p = await runJob({ signal: options.signal }, (cancel) => native.multiply(history, vectors, this.o.threads, cancel, null));
      normalizeRows(p);
      profiles = new native.KnnModel(p, termItems, history);
    }
    Object.assign(this, { ...parts, users: parts.users ?? new IdMap([], 'user'), profiles });
    return this;
  }

  async save(path: string): Promise<void> {
    await saveParts(this, path);
  }

  toParts(): ModelParts {
    const { vectors, sim } = this.state();
    const { stopwords, ...options } = this.o;
    return {
      kind: ContentRecommender.kind,
      header: {
        options: { ...options, ...(stopwords ? { stopwords: [...stopwords] } : {}) },
        items: this.items.size,
        users: this.users.size,
        terms: this.vocabulary.length,
        ids: { items: [...this.items.ids], users: [...this.users.ids] },
        vocabulary: this.vocabulary,
      },
      arrays: { ...csrArrays('vectors', vectors), ...csrArrays('similarity', sim), ...(this.history ? csrArrays('history', this.history) : {}) },
    };
  }

  static async fromParts(file: ModelFile): Promise<ContentRecommender> {
    const [n, u, t] = [file.fields.items, file.fields.users, file.fields.terms];
    if (![n, u, t].every((x) => Number.isInteger(x) && (x as number) >= 0)) throw file.corrupt('bad dimensions');
    file.i32('vectors.indptr', (n as number) + 1); // O(1) checks before the id lists are parsed
    if ((u as number) > 0) file.i32('history.indptr', (u as number) + 1);
    const h = file.header as { ids?: { items?: unknown; users?: unknown }; vocabulary?: unknown };
    if (!Array.isArray(h.ids?.items) || h.ids.items.length !== n || !Array.isArray(h.ids?.users) || h.ids.users.length !== u) throw file.corrupt('id maps do not match the dimensions');
    if (!Array.isArray(h.vocabulary) || h.vocabulary.length !== t || !h.vocabulary.every((w) => typeof w === 'string')) throw file.corrupt('vocabulary does not match the dimensions');
    const raw = optionsOf(file);
    const options = fromFile(file, () => new ContentRecommender({ ...raw, stopwords: Array.isArray(raw.stopwords) ? new Set(raw.stopwords as string[]) : undefined }));
    const items = await idMapOf(file, h.ids.items, 'item');
    const users = await idMapOf(file, h.ids.users, 'user');
    const vectors = await file.csr('vectors', n as number, t as number, { sortedRows: true });
    const s = await file.csr('similarity', n as number, n as number);
    const history = (u as number) > 0 ? await file.csr('history', u as number, n as number, { sortedRows: true }) : undefined;
    return options.install({
      items,
      vocabulary: h.vocabulary as string[],
      vectors,
      termItems: await native.transpose(vectors, null, null),
      sim: new SimilarityMatrix(items, s.indptr, s.indices, s.data),
      users: history ? users : undefined,
      history,
    });
  }


  get fitted(): boolean {
    return this.sim !== undefined;
  }

  private state() {
    if (!this.vectors || !this.termItems || !this.sim) throw new AffinityError('call fit() first', ErrorCode.NotFitted);
    return { vectors: this.vectors, termItems: this.termItems, sim: this.sim };
  }

  /** True when the model has an interest vector for this user (it was in the interactions given to fit). */
  knowsUser(user: Id): boolean {
    return this.users.has(user);
  }

  /** Top-k items for a user of the interactions given to fit, by the cosine with their interest vector. */
  recommend(user: Id, options: RecommendOptions = {}): Recommendation[] {
    return twoHopRecommend(this.profilesOf(), this.users.indexOf(user), this.items, options);
  }

  private profilesOf(): NativeKnnModel {
    this.state();
    if (!this.profiles) throw new AffinityError('fit() was given no interactions: use recommendFor', ErrorCode.NotFitted);
    return this.profiles;
  }

  /** Top-k for many users of the interactions given to fit. */
  async recommendBatch(users: Id[], options: BatchOptions = {}): Promise<BatchRecommendations> {
    const profiles = this.profilesOf();
    const b = splitIds(this.users, users);
    const f = recommendFilter(this.items, options);
    const k = Math.min(f.k, this.items.size);
    if (f.empty) return new BatchRecommendations(0, b.known, new Int32Array(0), new Float32Array(0), this.items, b.unknown);
    const threads = intOption(options.threads, 'threads', 0, 256, 0);
    const r = await runJob(options, (cancel, progress) => profiles.recommendBatch(b.indices, k, f.filterSeen, f.exclude, f.candidates, threads, cancel, progress));
    return new BatchRecommendations(k, b.known, r.items, r.scores, this.items, b.unknown);
  }

  /** The cosine of each given item with a known user's interest vector. */
  score(user: Id, items: Id[]): Scores {
    const profiles = this.profilesOf();
    const u = this.users.indexOf(user);
    return scoresFor(this.items, items, (idx) => profiles.score(u, idx));
  }

  async recommendForAsync(history: History, options: RecommendOptions & JobOptions = {}): Promise<Recommendation[]> {
    return this.recommendFor(history, options); // sparse: the visitor's terms times their items, no catalogue scan
  }

  /** Top-k items for a visitor from the items they interacted with (cold start); unknown items are ignored. */
  recommendFor(history: History, options: RecommendOptions = {}): Recommendation[] {
    const { vectors, termItems } = this.state();
    const { items, values } = historyIndices(this.items, history);
    // The profile is normalized below, so scaling the values changes nothing but keeps sums of huge values finite.
    const scale = 1 / Math.max(1e-30, ...Array.from(values, Math.abs));
    const profile = new Map<number, number>();
    items.forEach((i, h) => {
      for (let p = vectors.indptr[i]; p < vectors.indptr[i + 1]; p++)
        profile.set(vectors.indices[p], (profile.get(vectors.indices[p]) ?? 0) + values[h] * scale * vectors.data[p]);
    });
    const terms = Int32Array.from(profile.keys()).sort();
    const weights = Float32Array.from(terms, (t) => profile.get(t)!);
    const first: NativeCsr = { rows: 1, cols: this.vocabulary.length, indptr: Int32Array.of(0, terms.length), indices: terms, data: weights };
    normalizeRows(first);
    const seenItems = Int32Array.from(new Set(items)).sort();
    const seen: NativeCsr = { rows: 1, cols: this.items.size, indptr: Int32Array.of(0, seenItems.length), indices: seenItems, data: new Float32Array(seenItems.length).fill(1) };
    return twoHopRecommend(new native.KnnModel(first, termItems, seen), 0, this.items, options);
  }

  /** The items whose content is closest (cosine), best first. Works for items nobody interacted with yet. */
  similarItems(item: Id, options: NeighborOptions = {}): Neighbor[] {
    return this.state().sim.neighbors(item, kOption(options.k), candidateTest(maskOf(this.items, options.filter)));
  }

  /** The weighted terms of an item, heaviest first. */
  termsOf(item: Id, top = 10): { term: string; weight: number }[] {
    const { vectors } = this.state();
    const i = this.items.indexOf(item);
    const out: { term: string; weight: number }[] = [];
    for (let p = vectors.indptr[i]; p < vectors.indptr[i + 1]; p++) out.push({ term: this.vocabulary[vectors.indices[p]], weight: vectors.data[p] });
    return out.sort((a, b) => b.weight - a.weight).slice(0, top);
  }
}

function normalizeRows(m: NativeCsr): void {
  for (let r = 0; r < m.rows; r++) {
    let norm = 0;
    for (let p = m.indptr[r]; p < m.indptr[r + 1]; p++) norm += m.data[p] * m.data[p];
    if (norm === 0) continue;
    const inv = 1 / Math.sqrt(norm);
    for (let p = m.indptr[r]; p < m.indptr[r + 1]; p++) m.data[p] *= inv;
  }
}
