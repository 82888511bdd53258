// Decision trees and random forests (native, histogram-binned, categorical and missing values built in).
import { native, type NativeForest, type NativeForestModel, type NativeForestOptions } from '../core/native.js';
import { AffinityError, ErrorCode, badInput } from '../core/errors.js';
import { runJob, type JobOptions } from '../core/jobs.js';
import { boolOption, intOption, numberOption, oneOf } from '../core/options.js';
import { Random } from '../core/random.js';
import { checkSchema, encodeRecords, FeatureTable, type Cell, type FeatureSchema } from '../data/featuretable.js';
import { toMatrix, type Matrix } from '../data/matrix.js';
import type { ModelFile, ModelParts } from '../io/modelfile.js';
import { trainingMetadata, type TrainingMetadata } from '../models/contract.js';
import { finite64, fromFile, optionsOf, saveParts } from '../models/parts.js';
import { describeTree, featureNames, treeToJSON, type TreeNode } from './treeview.js';

/** A FeatureTable, a dense matrix (NaN is missing), or rows of numbers. */
export type TreeInput = FeatureTable | Matrix | readonly (readonly number[])[];
export type Label = string | number | boolean;

export interface TreeOptions {
  task?: 'classification' | 'regression';
  /** 'gini' (default) or 'entropy' for classification; regression always uses squared error. */
  criterion?: 'gini' | 'entropy' | 'squared_error';
  /** Deepest level (the root is 0); default unlimited. */
  maxDepth?: number;
  minSamplesSplit?: number;
  minSamplesLeaf?: number;
  /** Features examined per split: 'sqrt', 'log2', 'all', a count (integer >= 1) or a fraction in (0, 1). */
  maxFeatures?: 'sqrt' | 'log2' | 'all' | number;
  /** A split must decrease the weighted impurity by this much (scikit-learn's min_impurity_decrease). */
  minImpurityDecrease?: number;
  /** 'balanced' (n / (classes * n_class)) or a weight per class label. */
  classWeight?: 'balanced' | Record<string, number>;
  /** Histogram bins per numeric feature, at most 255 (default). */
  maxBins?: number;
  /** Treat these matrix columns as category codes (FeatureTable inputs know their own). */
  categoricalFeatures?: number[];
  /** Names of the matrix columns, for importances, rules and attributions (FeatureTable inputs know their own). */
  featureNames?: string[];
  seed?: number;
  threads?: number;
}

export interface ForestOptions extends TreeOptions {
  trees?: number;
  /** Each tree on a bootstrap sample (default true), which gives the out-of-bag score. */
  bootstrap?: boolean;
}

export interface TreeFitOptions extends JobOptions {
  sampleWeight?: ArrayLike<number>;
}

export interface PermutationImportance {
  features: string[];
  /** Mean drop of the score (accuracy or R²) when the feature's column is shuffled. */
  mean: Float64Array;
  std: Float64Array;
  baseline: number;
}

type Resolved = Required<Omit<ForestOptions, 'classWeight' | 'categoricalFeatures' | 'maxDepth' | 'featureNames'>> & {
  maxDepth: number | null;
  featureNames?: string[];
  classWeight?: ForestOptions['classWeight'];
  categoricalFeatures: number[];
};

const CRITERIA = { gini: 0, entropy: 1, squared_error: 2 } as const;
const UNLIMITED_DEPTH = 1 << 20;

/** The dense matrix of an input, NaN allowed (missing); a FeatureTable is encoded by `schema`. */
export function treeMatrix(x: TreeInput, schema?: FeatureSchema): Matrix {
  if (x instanceof FeatureTable) return x.encode(schema ?? x.schema);
  if (x === null || typeof x !== 'object' || (!Array.isArray(x) && !((x as Matrix).values instanceof Float32Array)))
    throw badInput('x must be a FeatureTable, number[][] or { values: Float32Array, rows, dims }');
  return toMatrix(x as Matrix | readonly (readonly number[])[], 'x', { missing: true });
}

export function checkMaxFeatures(mf: unknown): 'sqrt' | 'log2' | 'all' | number {
  if (!(mf === 'sqrt' || mf === 'log2' || mf === 'all' || (typeof mf === 'number' && ((Number.isInteger(mf) && mf >= 1) || (mf > 0 && mf < 1)))))
    throw badInput("maxFeatures must be 'sqrt', 'log2', 'all', an integer >= 1 or a fraction in (0, 1)");
  return mf;
}

export function resolveMaxFeatures(value: Resolved['maxFeatures'], dims: number): number {
  if (value === 'all') return dims;
  if (value === 'sqrt') return Math.max(1, Math.floor(Math.sqrt(dims)));
  if (value === 'log2') return Math.max(1, Math.floor(Math.log2(dims)));
  return value < 1 ? Math.max(1, Math.floor(value * dims)) : Math.min(dims, value);
}

function resolve(options: ForestOptions, forest: boolean): Resolved {
  if (options === null || typeof options !== 'object') throw badInput('options must be an object');
  const task = oneOf(options.task, 'task', ['classification', 'regression'], 'classification');
  const criterion = oneOf(options.criterion, 'criterion', task === 'classification' ? ['gini', 'entropy'] : ['squared_error'], task === 'classification' ? 'gini' : 'squared_error');
  const mf = checkMaxFeatures(options.maxFeatures ?? (forest && task === 'classification' ? 'sqrt' : 'all'));
  const cw = options.classWeight;
  if (cw !== undefined && cw !== 'balanced' && !(typeof cw === 'object' && cw !== null && Object.values(cw).every((w) => typeof w === 'number' && Number.isFinite(w) && w >= 0)))
    throw badInput("classWeight must be 'balanced' or { label: weight } with weights >= 0");
  const cats = options.categoricalFeatures ?? [];
  if (!Array.isArray(cats) || !cats.every((c) => Number.isInteger(c) && c >= 0)) throw badInput('categoricalFeatures must be column indices');
  return {
    task,
    criterion,
    maxDepth: options.maxDepth === undefined || options.maxDepth === null ? null : intOption(options.maxDepth, 'maxDepth', 0, UNLIMITED_DEPTH, 0),
    minSamplesSplit: intOption(options.minSamplesSplit, 'minSamplesSplit', 2, 0x7ffffffe, 2),
    minSamplesLeaf: intOption(options.minSamplesLeaf, 'minSamplesLeaf', 1, 0x7ffffffe, 1),
    maxFeatures: mf,
    minImpurityDecrease: numberOption(options.minImpurityDecrease, 'minImpurityDecrease', 0, 0),
    classWeight: cw,
    maxBins: intOption(options.maxBins, 'maxBins', 2, 255, 255),
    categoricalFeatures: [...cats],
    ...(options.featureNames !== undefined ? { featureNames: checkNames(options.featureNames) } : {}),
    seed: intOption(options.seed, 'seed', 0, 0xffffffff, 42),
    threads: intOption(options.threads, 'threads', 0, 256, 0),
    trees: forest ? intOption(options.trees, 'trees', 1, 100_000, 100) : 1,
    bootstrap: forest ? boolOption(options.bootstrap, 'bootstrap', true) : false,
  };
}

function checkNames(names: unknown): string[] {
  if (!Array.isArray(names) || !names.every((n) => typeof n === 'string')) throw badInput('featureNames must be an array of strings');
  return [...names];
}

function labelKey(v: Label): string {
  return typeof v === 'string' ? `s:${v}` : typeof v === 'boolean' ? `b:${v}` : `n:${v}`;
}

/** The classes of a label column in order (numbers ascending, false before true, strings sorted) and each row's class index. */
export function encodeLabels(y: ArrayLike<Cell>): { classes: Label[]; index: Int32Array } {
  const seen = new Map<string, Label>();
  for (let i = 0; i < y.length; i++) {
    const v = y[i];
    if (v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v)) || v === '') throw badInput(`label ${i} is missing`);
    if (!seen.has(labelKey(v))) seen.set(labelKey(v), v);
  }
  const classes = [...seen.values()].sort((a, b) => (typeof a === typeof b ? (a < b ? -1 : a > b ? 1 : 0) : typeof a < typeof b ? -1 : 1));
  const at = new Map(classes.map((c, i) => [labelKey(c), i]));
  return { classes, index: Int32Array.from({ length: y.length }, (_, i) => at.get(labelKey(y[i] as Label))!) };
}

/** A forest's arrays (what files store and toJSON reads) and its native pack (what predictions walk). */
export interface Forest {
  arrays: NativeForest;
  engine: NativeForestModel;
}

/** Packs arrays for prediction (validating them). */
export function packed(arrays: NativeForest): Forest {
  return { arrays, engine: new native.ForestModel(arrays) };
}

/** Shared by DecisionTree and RandomForest: one native forest (a tree is a forest of one without bootstrap). */
abstract class TreeEnsemble {
  abstract readonly kind: string;
  metadata?: TrainingMetadata;
  /** Classification: the class labels, in the order of predictProba's columns. */
  classes: Label[] = [];
  /** The features as the model was trained on them: set when it was fitted on a FeatureTable. */
  schema?: FeatureSchema;
  /** Impurity-based importance per feature (each tree's normalized to 1, averaged, normalized). */
  featureImportances: Float64Array = new Float64Array(0);
  protected forest?: Forest;
  protected readonly o: Resolved;

  protected constructor(options: ForestOptions, forest: boolean) {
    this.o = resolve(options, forest);
  }

  get fitted(): boolean {
    return this.forest !== undefined;
  }

  get task(): 'classification' | 'regression' {
    return this.o.task;
  }

  get featureNames(): string[] {
    const dims = this.forest?.arrays.features ?? 0;
    return this.schema || this.o.featureNames?.length !== dims ? featureNames(this.schema, dims) : [...this.o.featureNames];
  }

  /** Nodes across all trees. */
  get nodeCount(): number {
    const offsets = this.forest?.arrays.treeOffsets;
    return offsets ? offsets[offsets.length - 1] : 0;
  }

  /** Fits on x with labels or targets y (an array, or a column name of a FeatureTable x). */
  async fit(x: TreeInput, y: ArrayLike<Cell> | string, options: TreeFitOptions = {}): Promise<this> {
    const { matrix, schema } = this.trainingMatrix(x, y);
    const target = typeof y === 'string' ? (x as FeatureTable).values(y) : y;
    if (target === null || typeof target !== 'object' || target.length !== matrix.rows) throw new AffinityError(`y must have ${matrix.rows} entries`, ErrorCode.DimMismatch);
    let channel: Int32Array | null = null;
    let values: Float32Array | null = null;
    let classes: Label[] = [];
    if (this.o.task === 'classification') {
      ({ classes, index: channel } = encodeLabels(target));
      if (classes.length > 1024) throw badInput(`${classes.length} classes: at most 1024`);
      if (classes.length < 2) throw badInput('the labels hold a single class: there is nothing to classify');
    } else {
      values = Float32Array.from({ length: target.length }, (_, i) => {
        const v = typeof target[i] === 'string' ? Number(target[i]) : target[i];
        if (typeof v !== 'number' || !Number.isFinite(v)) throw badInput(`y[${i}] must be a finite number`);
        return v;
      });
    }
    const weights = this.rowWeights(matrix.rows, channel, classes, options.sampleWeight);
    const categorical = this.categoricalMask(schema, matrix.dims);
    const r = await runJob(options, (cancel, progress) =>
      native.forestFit(matrix, categorical, values, channel, weights, this.nativeOptions(matrix.dims, classes.length), cancel, progress),
    );
    this.forest = packed(r.forest);
    this.parentsCache = undefined;
    this.classes = classes;
    this.schema = schema;
    this.featureImportances = r.importances;
    this.afterFit(r.oobScore, r.oobValue, classes.length);
    this.metadata = trainingMetadata({ rows: matrix.rows, features: matrix.dims, ...(classes.length ? { classes: classes.length } : {}), nodes: this.nodeCount }, this.o);
    return this;
  }

  /**
   * Regression: the predicted values. Classification: the index into `classes` of the most probable class
   * (predictLabels gives the labels).
   */
  async predict(x: TreeInput, options: JobOptions = {}): Promise<Float64Array> {
    const out = await this.raw(x, options);
    const k = this.forest!.arrays.outputs;
    if (this.o.task === 'regression') return Float64Array.from(out);
    const rows = out.length / k;
    return Float64Array.from({ length: rows }, (_, r) => {
      let best = 0;
      for (let c = 1; c < k; c++) if (out[r * k + c] > out[r * k + best]) best = c;
      return best;
    });
  }

  async predictLabels(x: TreeInput, options: JobOptions = {}): Promise<Label[]> {
    this.requireClassifier();
    return Array.from(await this.predict(x, options), (i) => this.classes[i]);
  }

  /** Classification: P(classes[1]) per row for two classes; rows x classes (row-major) otherwise. */
  async predictProba(x: TreeInput, options: JobOptions = {}): Promise<Float64Array> {
    this.requireClassifier();
    const out = await this.raw(x, options);
    if (this.classes.length !== 2) return Float64Array.from(out);
    return Float64Array.from({ length: out.length / 2 }, (_, r) => out[r * 2 + 1]);
  }

  /**
   * The same for a few rows given as objects keyed by feature name (a served request), on the calling
   * thread: each row's raw outputs (class probabilities or the predicted value).
   */
  predictRecords(records: readonly Record<string, Cell>[]): Float32Array {
    const f = this.requireForest();
    if (!this.schema) throw badInput('this model was trained on a matrix: records need a model trained on a FeatureTable');
    return predictRecordsWith(f, this.schema, records);
  }

  /** The number of features the model takes. */
  get featureCount(): number {
    return this.forest?.arrays.features ?? 0;
  }

  /**
   * Classification probabilities of a few rows (a served request) on the calling thread: P(classes[1])
   * for two classes, rows x classes otherwise. Batches go through predictProba.
   */
  predictProbaSync(x: Matrix): Float64Array {
    this.requireClassifier();
    const k = this.forest!.arrays.outputs;
    const out = predictSyncWith(this.forest!, x);
    return k === 2 ? Float64Array.from({ length: x.rows }, (_, r) => out[r * 2 + 1]) : Float64Array.from(out);
  }

  /**
   * Each feature's part in one row's prediction (Saabas' path attribution): along the row's path in every
   * tree, the change of the predicted value at each split goes to the split's feature; averaged over trees.
   * prediction = bias + Σ contributions. Binary classification: in P(classes[1]); regression: in the value.
   */
  contributions(row: ArrayLike<number>): { bias: number; contributions: Float64Array } {
    const f = this.requireForest();
    const a = f.arrays;
    if (row.length !== a.features) throw new AffinityError(`the row has ${row.length} features, the model ${a.features}`, ErrorCode.DimMismatch);
    if (this.o.task === 'classification' && this.classes.length !== 2) throw badInput('contributions are defined here for regression and two classes');
    const leaves = f.engine.applySync({ values: Float32Array.from(row), rows: 1, dims: a.features });
    const parents = this.parents();
    const k = a.outputs;
    const at = k === 2 ? 1 : 0;
    const contributions = new Float64Array(a.features);
    let bias = 0;
    const trees = a.treeOffsets.length - 1;
    for (let t = 0; t < trees; t++) {
      const base = a.treeOffsets[t];
      for (let node = leaves[t]; node > 0; ) {
        const parent = parents[base + node];
        contributions[a.feature[base + parent]] += (a.value[(base + node) * k + at] - a.value[(base + parent) * k + at]) / trees;
        node = parent;
      }
      bias += a.value[base * k + at] / trees;
    }
    return { bias, contributions };
  }

  /** The `top` largest contributions of one row, by magnitude. */
  attributions(row: ArrayLike<number>, top = Infinity): { feature: string; contribution: number }[] {
    const { contributions } = this.contributions(row);
    const names = this.featureNames;
    return Array.from(contributions, (contribution, d) => ({ feature: names[d], contribution }))
      .sort((x, y) => Math.abs(y.contribution) - Math.abs(x.contribution))
      .slice(0, top);
  }

  private parentsCache?: Int32Array;
  // Tree-local parent of every node (the root's is -1).
  private parents(): Int32Array {
    if (this.parentsCache) return this.parentsCache;
    const a = this.requireForest().arrays;
    const parents = new Int32Array(a.feature.length).fill(-1);
    for (let t = 0; t + 1 < a.treeOffsets.length; t++)
      for (let g = a.treeOffsets[t]; g < a.treeOffsets[t + 1]; g++)
        if (a.feature[g] >= 0) parents[a.treeOffsets[t] + a.left[g]] = parents[a.treeOffsets[t] + a.right[g]] = g - a.treeOffsets[t];
    return (this.parentsCache = parents);
  }

  /** The drop in score (accuracy, or R² for regression) when each feature is shuffled, over `repeats` shuffles. */
  async permutationImportance(x: TreeInput, y: ArrayLike<Cell> | string, options: JobOptions & { repeats?: number; seed?: number } = {}): Promise<PermutationImportance> {
    const f = this.requireForest();
    const m = treeMatrix(x, this.schema);
    const target = typeof y === 'string' ? (x as FeatureTable).values(y) : y;
    if (target.length !== m.rows) throw new AffinityError(`y must have ${m.rows} entries`, ErrorCode.DimMismatch);
    const repeats = intOption(options.repeats, 'repeats', 1, 1000, 5);
    const random = new Random(intOption(options.seed, 'seed', 0, 0xffffffff, 42));
    const truth = this.o.task === 'classification' ? this.classIndex(target) : Float64Array.from(target as ArrayLike<number>, Number);
    const score = async (matrix: Matrix) => scoreOf(this.o.task, await this.predict(matrix, { signal: options.signal }), truth);
    const baseline = await score(m);
    const mean = new Float64Array(m.dims);
    const std = new Float64Array(m.dims);
    for (let d = 0; d < f.arrays.features; d++) {
      const drops: number[] = [];
      for (let rep = 0; rep < repeats; rep++) {
        const values = m.values.slice();
        for (let i = m.rows - 1; i > 0; i--) {
          const j = random.int(i + 1);
          const t = values[i * m.dims + d];
          values[i * m.dims + d] = values[j * m.dims + d];
          values[j * m.dims + d] = t;
        }
        drops.push(baseline - (await score({ values, rows: m.rows, dims: m.dims })));
      }
      mean[d] = drops.reduce((a, b) => a + b, 0) / repeats;
      std[d] = Math.sqrt(drops.reduce((a, b) => a + (b - mean[d]) ** 2, 0) / repeats);
      options.onProgress?.((d + 1) / f.arrays.features);
    }
    return { features: this.featureNames, mean, std, baseline };
  }

  /** Tree `tree` as nested nodes with feature and category names, down to maxDepth. */
  toJSON(tree = 0, maxDepth = Infinity): TreeNode {
    const f = this.requireForest();
    intOption(tree, 'tree', 0, f.arrays.treeOffsets.length - 2, 0);
    return treeToJSON(f.arrays, tree, this.schema, maxDepth, this.featureNames);
  }

  /** The top `depth` levels of a tree as indented if/else rules. */
  describe(options: { tree?: number; depth?: number } = {}): string {
    const depth = intOption(options.depth, 'depth', 0, 64, 3);
    const label =
      this.o.task === 'regression'
        ? (v: number[]) => `value ${v[0].toPrecision(4)}`
        : this.classes.length === 2
          ? (v: number[]) => `P(${String(this.classes[1])}) = ${v[1].toFixed(3)}`
          : (v: number[]) => `${String(this.classes[v.indexOf(Math.max(...v))])} (${Math.max(...v).toFixed(3)})`;
    return describeTree(this.toJSON(options.tree ?? 0, depth), label, depth);
  }

  async save(path: string): Promise<void> {
    await saveParts(this, path);
  }

  toParts(): ModelParts {
    const f = this.requireForest();
    return {
      kind: this.kind,
      header: { options: this.o, classes: this.classes, schema: this.schema ?? null, features: f.arrays.features, outputs: f.arrays.outputs, ...this.extraHeader() },
      arrays: forestArrays(f.arrays, this.featureImportances),
    };
  }

  protected static restore<T extends TreeEnsemble>(file: ModelFile, build: (options: ForestOptions) => T): T {
    const { classes, schema, features, outputs } = file.fields;
    const model = fromFile(file, () => build(optionsOf(file) as ForestOptions));
    if (!Array.isArray(classes) || !classes.every((c) => ['string', 'number', 'boolean'].includes(typeof c))) throw file.corrupt('classes missing');
    if (!Number.isInteger(features) || !Number.isInteger(outputs)) throw file.corrupt('bad dimensions');
    const expected = model.o.task === 'regression' ? 1 : classes.length;
    if (outputs !== expected) throw file.corrupt(`outputs ${String(outputs)} do not match ${expected}`);
    model.classes = classes as Label[];
    model.schema = schema === null ? undefined : fromFile(file, () => checkSchema(schema));
    if (model.schema && model.schema.features.length !== features) throw file.corrupt('the schema does not match the features');
    model.forest = forestFromFile(file, features as number, outputs as number);
    model.featureImportances = finite64(file, 'importances', features as number);
    return model;
  }

  protected abstract afterFit(oobScore: number, oobValue: Float32Array, classes: number): void;
  protected extraHeader(): Record<string, unknown> {
    return {};
  }

  protected nativeOptions(dims: number, classes: number): NativeForestOptions {
    return {
      task: this.o.task === 'classification' ? 0 : 1,
      criterion: CRITERIA[this.o.criterion],
      outputs: this.o.task === 'classification' ? classes : 1,
      maxDepth: this.o.maxDepth ?? UNLIMITED_DEPTH,
      minSamplesSplit: this.o.minSamplesSplit,
      minSamplesLeaf: this.o.minSamplesLeaf,
      minSamplesArm: 1,
      maxFeatures: resolveMaxFeatures(this.o.maxFeatures, dims),
      minImpurityDecrease: this.o.minImpurityDecrease,
      honest: false,
      trees: this.o.trees,
      bootstrap: this.o.bootstrap,
      maxBins: this.o.maxBins,
      seed: this.o.seed,
      threads: this.o.threads,
    };
  }

  private trainingMatrix(x: TreeInput, y: ArrayLike<Cell> | string): { matrix: Matrix; schema?: FeatureSchema } {
    if (typeof y === 'string' && !(x instanceof FeatureTable)) throw badInput('y can name a column only when x is a FeatureTable');
    if (x instanceof FeatureTable) {
      const schema = typeof y === 'string' ? { features: x.schema.features.filter((c) => c.name !== y) } : x.schema;
      if (schema.features.length === 0) throw badInput('the table has no feature columns');
      return { matrix: x.encode(schema), schema };
    }
    return { matrix: treeMatrix(x) };
  }

  private categoricalMask(schema: FeatureSchema | undefined, dims: number): Uint8Array | null {
    if (schema) return Uint8Array.from(schema.features, (c) => (c.kind === 'categorical' ? 1 : 0));
    if (this.o.categoricalFeatures.length === 0) return null;
    const mask = new Uint8Array(dims);
    for (const c of this.o.categoricalFeatures) {
      if (c >= dims) throw badInput(`categoricalFeatures names column ${c}, x has ${dims}`);
      mask[c] = 1;
    }
    return mask;
  }

  private rowWeights(rows: number, channel: Int32Array | null, classes: Label[], sampleWeight?: ArrayLike<number>): Float32Array | null {
    const cw = this.o.classWeight;
    if (sampleWeight === undefined && (cw === undefined || channel === null)) return null;
    const w = new Float32Array(rows).fill(1);
    if (sampleWeight !== undefined) {
      if (sampleWeight.length !== rows) throw new AffinityError(`sampleWeight must have ${rows} entries`, ErrorCode.DimMismatch);
      for (let i = 0; i < rows; i++) w[i] = sampleWeight[i];
    }
    if (cw !== undefined && channel !== null) {
      const counts = new Float64Array(classes.length);
      for (const c of channel) counts[c]++;
      const perClass = classes.map((c, i) => (cw === 'balanced' ? rows / (classes.length * counts[i]) : (cw[String(c)] ?? 1)));
      for (let i = 0; i < rows; i++) w[i] *= perClass[channel[i]];
    }
    return w;
  }

  private classIndex(y: ArrayLike<Cell>): Float64Array {
    const at = new Map(this.classes.map((c, i) => [labelKey(c), i]));
    return Float64Array.from({ length: y.length }, (_, i) => at.get(labelKey(y[i] as Label)) ?? -1);
  }

  /** The forest's mean outputs, rows x outputs: class probabilities (classification) or values (regression). */
  async predictRaw(x: TreeInput, options: JobOptions = {}): Promise<Float32Array> {
    return this.raw(x, options);
  }

  private async raw(x: TreeInput, options: JobOptions): Promise<Float32Array> {
    const f = this.requireForest();
    const m = treeMatrix(x, this.schema);
    if (m.dims !== f.arrays.features) throw new AffinityError(`x has ${m.dims} features, the model ${f.arrays.features}`, ErrorCode.DimMismatch);
    return predictWith(f, m, this.o.threads, options);
  }

  protected requireForest(): Forest {
    if (!this.forest) throw new AffinityError('call fit() first', ErrorCode.NotFitted);
    return this.forest;
  }

  private requireClassifier(): void {
    this.requireForest();
    if (this.o.task !== 'classification') throw badInput('a regression model has no classes: use predict()');
  }
}

function scoreOf(task: string, predicted: Float64Array, truth: Float64Array): number {
  const n = truth.length;
  if (task === 'classification') {
    let hits = 0;
    for (let i = 0; i < n; i++) hits += predicted[i] === truth[i] ? 1 : 0;
    return hits / n;
  }
  const mean = truth.reduce((a, b) => a + b, 0) / n;
  let sse = 0;
  let sst = 0;
  for (let i = 0; i < n; i++) (sse += (predicted[i] - truth[i]) ** 2), (sst += (truth[i] - mean) ** 2);
  return sst > 0 ? 1 - sse / sst : 0;
}

/** A forest's arrays for a model file, names prefixed (catBits as int32: the file has no uint32 type). */
export function forestArrays(f: NativeForest, importances: Float64Array, prefix = ''): ModelParts['arrays'] {
  const arrays: ModelParts['arrays'] = {
    treeOffsets: f.treeOffsets,
    feature: f.feature,
    left: f.left,
    right: f.right,
    catOffset: f.catOffset,
    threshold: f.threshold,
    flags: f.flags,
    samples: f.samples,
    impurity: f.impurity,
    value: f.value,
    catBits: new Int32Array(f.catBits.buffer, f.catBits.byteOffset, f.catBits.length),
    importances,
  };
  return Object.fromEntries(Object.entries(arrays).map(([name, a]) => [prefix + name, a]));
}

/** Mean outputs of every tree, rows x outputs, as a job. */
export function predictWith(f: Forest, m: Matrix, threads: number, options: JobOptions): Promise<Float32Array> {
  return runJob(options, (cancel, progress) => f.engine.predict(m, 0, f.arrays.treeOffsets.length - 1, threads, cancel, progress));
}

/** Mean outputs of a few rows on the calling thread, in the native side's batches of 64. */
export function predictSyncWith(f: Forest, x: Matrix): Float32Array {
  const k = f.arrays.outputs;
  const out = new Float32Array(x.rows * k);
  for (let start = 0; start < x.rows; start += 64) {
    const rows = Math.min(64, x.rows - start);
    out.set(f.engine.predictSync({ values: x.values.subarray(start * x.dims, (start + rows) * x.dims), rows, dims: x.dims }), start * k);
  }
  return out;
}

/** The same for rows given as objects, encoded with the model's schema. */
export function predictRecordsWith(f: Forest, schema: FeatureSchema, records: readonly Record<string, Cell>[]): Float32Array {
  return predictSyncWith(f, encodeRecords(schema, records));
}

/** The forest of a model file, checked natively (children after parents, indices in range, finite values). */
export function forestFromFile(file: ModelFile, features: number, outputs: number, prefix = ''): Forest {
  const bits = file.i32(prefix + 'catBits');
  const forest: NativeForest = {
    features,
    outputs,
    treeOffsets: file.i32(prefix + 'treeOffsets'),
    feature: file.i32(prefix + 'feature'),
    left: file.i32(prefix + 'left'),
    right: file.i32(prefix + 'right'),
    catOffset: file.i32(prefix + 'catOffset'),
    threshold: file.f32(prefix + 'threshold'),
    flags: file.u8(prefix + 'flags'),
    samples: file.f32(prefix + 'samples'),
    impurity: file.f32(prefix + 'impurity'),
    value: file.f32(prefix + 'value'),
    catBits: new Uint32Array(bits.buffer, bits.byteOffset, bits.length),
  };
  if (forest.samples.length !== forest.feature.length || forest.impurity.length !== forest.feature.length) throw file.corrupt('node arrays differ in length');
  try {
    return packed(forest);
  } catch (err) {
    throw file.corrupt((err as Error).message);
  }
}

/** One CART tree: `new DecisionTree({ maxDepth: 4 }).fit(table, 'converted')`. */
export class DecisionTree extends TreeEnsemble {
  static readonly kind = 'tree';
  readonly kind = DecisionTree.kind;

  constructor(options: TreeOptions = {}) {
    if (options !== null && typeof options === 'object' && ('trees' in options || 'bootstrap' in options)) throw badInput('a DecisionTree has no trees or bootstrap options: use RandomForest');
    super(options, false);
  }

  get depth(): number {
    return this.metadataDepth;
  }

  private metadataDepth = 0;

  protected afterFit(): void {
    const f = this.requireForest().arrays;
    // Children come after their parents: one pass, no recursion however deep the tree.
    const depth = new Int32Array(f.feature.length);
    let deepest = 0;
    for (let i = 0; i < f.feature.length; i++) {
      deepest = Math.max(deepest, depth[i]);
      if (f.feature[i] >= 0) depth[f.left[i]] = depth[f.right[i]] = depth[i] + 1;
    }
    this.metadataDepth = deepest;
  }

  static async fromParts(file: ModelFile): Promise<DecisionTree> {
    const model = TreeEnsemble.restore(file, ({ trees: _, bootstrap: __, ...o }) => new DecisionTree(o));
    model.afterFit();
    return model;
  }
}

/** Bagged trees with random feature subsets per split, trained in parallel and the same for a seed whatever the thread count. */
export class RandomForest extends TreeEnsemble {
  static readonly kind = 'forest';
  readonly kind = RandomForest.kind;
  /** Out-of-bag accuracy (classification) or R² (regression); NaN without bootstrap. */
  oobScore = NaN;
  /** Out-of-bag outputs per row (class probabilities or values), NaN for rows in every tree's bag. */
  oobPrediction?: Float32Array;

  constructor(options: ForestOptions = {}) {
    super(options, true);
  }

  protected afterFit(oobScore: number, oobValue: Float32Array): void {
    this.oobScore = oobScore;
    this.oobPrediction = oobValue;
  }

  protected extraHeader(): Record<string, unknown> {
    return { oobScore: Number.isFinite(this.oobScore) ? this.oobScore : null };
  }

  static async fromParts(file: ModelFile): Promise<RandomForest> {
    const model = TreeEnsemble.restore(file, (o) => new RandomForest(o));
    const oob = file.fields.oobScore;
    model.oobScore = typeof oob === 'number' ? oob : NaN;
    return model;
  }
}
