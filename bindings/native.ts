// Loads the compiled addon (build/Release or prebuilds/) and types its raw surface. Mirrors addon.cc.
// Imports nothing from src/: it is the bottom layer.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import os from 'node:os';

export interface NativeCsr {
  rows: number;
  cols: number;
  indptr: Int32Array;
  indices: Int32Array;
  data: Float32Array;
  timestamps?: Float64Array | null;
}

export interface NativeCapabilities {
  arch: string;
  features: string[];
  simdLevels: string[];
  simd: string;
  threads: number;
}

export interface NativeSimilarityOptions {
  axis: 'items' | 'users';
  measure: string;
  weighting: string;
  k: number;
  shrink: number;
  minSimilarity: number;
  minSupport: number;
  bm25K1: number;
  bm25B: number;
  dense: boolean;
  threads: number;
}

/** Top-k for many users (indices) on native threads; k per user, -1 padded. */
export type NativeRecommendBatch = (
  users: Int32Array,
  k: number,
  filterSeen: boolean,
  exclude: Int32Array | null,
  candidates: Int32Array | Uint32Array | null,
  threads: number,
  cancel: Int32Array | null,
  onProgress: ProgressCallback,
) => Promise<NativeScored>;

/** A neighbourhood model: first = the user's row, second = where each middle entry leads (see knn.h). */
export interface NativeKnnModel {
  recommend(user: number, k: number, filterSeen: boolean, exclude: Int32Array | null, candidates: Int32Array | Uint32Array | null): NativeScored;
  score(user: number, items: Int32Array): Float32Array;
  recommendBatch: NativeRecommendBatch;
}

export interface NativeScored {
  items: Int32Array;
  scores: Float32Array;
}

export type ProgressCallback = ((fraction: number) => void) | null;

export interface NativeCsvReaderOptions {
  delimiter: string;
  header: boolean;
  skipInvalid: boolean;
  columns: { user: string | number; item: string | number; value?: string | number; timestamp?: string | number };
}

export interface NativeCsvResult {
  rows: Int32Array;
  cols: Int32Array;
  values: Float32Array | null;
  timestamps: Float64Array | null;
  userIds: string[];
  itemIds: string[];
  skipped: number;
}

export interface NativeCsvReader {
  push(chunk: Uint8Array): Promise<void>;
  finish(): NativeCsvResult;
}

export interface NativeAlsOptions {
  factors: number;
  iterations: number;
  regularization: number;
  alpha: number;
  feedback: 'implicit' | 'explicit';
  solver: 'cg' | 'cholesky';
  cgSteps: number;
  scaleRegularization: boolean;
  biases: boolean;
  seed: number;
  threads: number;
}

export interface NativeAlsFactors {
  users: number;
  items: number;
  factors: number;
  implicit: boolean;
  globalMean: number;
  userFactors: Float32Array;
  itemFactors: Float32Array;
  userBias: Float32Array | null;
  itemBias: Float32Array | null;
}

export interface NativeAlsModel {
  recommend(user: number, k: number, filterSeen: boolean, exclude: Int32Array | null, candidates: Int32Array | Uint32Array | null): NativeScored;
  recommendFor(
    items: Int32Array,
    values: Float32Array,
    k: number,
    filterSeen: boolean,
    exclude: Int32Array | null,
    candidates: Int32Array | Uint32Array | null,
  ): NativeScored;
  foldIn(items: Int32Array, values: Float32Array): { factors: Float32Array; bias: number };
  recommendForAsync(
    items: Int32Array,
    values: Float32Array,
    k: number,
    filterSeen: boolean,
    exclude: Int32Array | null,
    candidates: Int32Array | Uint32Array | null,
    cancel: Int32Array | null,
  ): Promise<NativeScored>;
  score(user: number, items: Int32Array): Float32Array;
  scoreFor(items: Int32Array, values: Float32Array, candidates: Int32Array): Float32Array;
  /** allowed: a bit per item (item neighbours only), or null. */
  similar(byItems: boolean, row: number, k: number, allowed: Uint32Array | null): NativeScored;
  similarAsync(byItems: boolean, row: number, k: number, allowed: Uint32Array | null, cancel: Int32Array | null): Promise<NativeScored>;
  prepareAsync(cancel: Int32Array | null): Promise<void>;
  explain(items: Int32Array, values: Float32Array, item: number): NativeScored & { total: number };
  recommendBatch: NativeRecommendBatch;
}

export interface NativeKMeansOptions {
  k: number;
  iterations: number;
  tolerance: number;
  seed: number;
  threads: number;
}

export interface NativeKMeansResult {
  centroids: Float32Array;
  assignments: Int32Array;
  sizes: Int32Array;
  inertia: number;
  iterations: number;
  converged: boolean;
}

export interface NativeLogisticOptions {
  l2: number;
  fitIntercept: boolean;
  maxIterations: number;
  tolerance: number;
  memory: number;
  threads: number;
}

export interface NativeLogisticResult {
  coefficients: Float64Array;
  intercept: number;
  iterations: number;
  converged: boolean;
  loss: number;
  gradientNorm: number;
}

export type NativeClvModel = 'betageo' | 'paretonbd' | 'gammagamma';
export interface NativeClvCustomers {
  frequency: Float64Array;
  recency?: Float64Array;
  T?: Float64Array;
  monetary?: Float64Array;
  weights?: Float64Array;
}
export interface NativeClvFit {
  params: Float64Array;
  standardErrors: Float64Array;
  logLikelihood: number;
  iterations: number;
  converged: boolean;
  gradientNorm: number;
}

export type NativeFeatures = { dense: Float32Array; rows: number; dims: number } | NativeCsr;

export interface NativeRows {
  values: Float32Array;
  rows: number;
  dims: number;
}
/** A forest's flat arrays (native/core/trees.h Forest). */
export interface NativeForest {
  features: number;
  outputs: number;
  treeOffsets: Int32Array;
  feature: Int32Array;
  left: Int32Array;
  right: Int32Array;
  catOffset: Int32Array;
  threshold: Float32Array;
  flags: Uint8Array;
  samples: Float32Array;
  impurity: Float32Array;
  value: Float32Array;
  catBits: Uint32Array;
}
export interface NativeForestOptions {
  /** 0 classification, 1 regression, 2 uplift. */
  task: number;
  /** 0 gini, 1 entropy, 2 squared error, 3 euclidean (uplift), 4 delta-delta-p (uplift). */
  criterion: number;
  outputs: number;
  maxDepth: number;
  minSamplesSplit: number;
  minSamplesLeaf: number;
  minSamplesArm: number;
  maxFeatures: number;
  minImpurityDecrease: number;
  honest: boolean;
  trees: number;
  bootstrap: boolean;
  maxBins: number;
  seed: number;
  threads: number;
}
export interface NativeForestModel {
  /** Mean leaf values over trees [firstTree, lastTree): rows x outputs. */
  predict(x: NativeRows, firstTree: number, lastTree: number, threads: number, cancel: Int32Array | null, onProgress: ProgressCallback): Promise<Float32Array>;
  /** At most 64 rows, on the calling thread. */
  predictSync(x: NativeRows): Float32Array;
  /** Leaf index per row and tree: rows x trees. */
  apply(x: NativeRows, threads: number, cancel: Int32Array | null, onProgress: ProgressCallback): Promise<Int32Array>;
  /** At most 64 rows, on the calling thread. */
  applySync(x: NativeRows): Int32Array;
}
export interface NativeForestFit {
  forest: NativeForest;
  importances: Float64Array;
  oobValue: Float32Array;
  oobScore: number;
  depth: Int32Array;
  leaves: Int32Array;
}

export interface NativeBanditOptions {
  /** 0 epsilon-greedy, 1 ucb1, 2 thompson, 3 linucb, 4 lin-thompson, 5 logistic-thompson. */
  policy: number;
  dims: number;
  offerDims: number;
  epsilon: number;
  alpha: number;
  scale: number;
  lambda: number;
  priorAlpha: number;
  priorBeta: number;
  propensitySamples: number;
}
/** Everything a bandit keeps (native/core/bandit.h BanditSnapshot). */
export interface NativeBanditState {
  arms: number;
  count: Float64Array;
  rewardSum: Float64Array;
  ainv: Float64Array;
  b: Float64Array;
  theta: Float64Array;
  offerFeatures: Float64Array;
  shared: Float64Array;
  a0: Float64Array;
  a0inv: Float64Array;
  b0: Float64Array;
  rng: Uint32Array;
}
export interface NativeBanditModel {
  addArm(offerFeatures: Float64Array | null): number;
  /** Writes [arm, propensity] into out and returns the arm. */
  decide(x: Float64Array | null, candidates: Int32Array, out: Float64Array): number;
  update(arm: number, x: Float64Array | null, reward: number): void;
  probabilities(x: Float64Array | null, candidates: Int32Array, seed: number, samples: number): Float64Array;
  probabilitiesBatch(contexts: Float64Array | null, rows: number, candidates: Int32Array, seed: number, samples: number, threads: number, cancel: Int32Array | null, onProgress: ProgressCallback): Promise<Float64Array>;
  /** [mean, width] of an arm's linear model for x. */
  linearTerms(arm: number, x: Float64Array | null): Float64Array;
  coefficients(arm: number): Float64Array;
  counts(): { count: Float64Array; rewardSum: Float64Array };
  snapshot(): NativeBanditState;
}

export interface NativeBprOptions {
  factors: number;
  epochs: number;
  learningRate: number;
  regularization: number;
  learningRateDecay: number;
  verifyNegatives: boolean;
  seed: number;
  threads: number;
}

export interface NativeBinding {
  capabilities(): NativeCapabilities;
  /** Items the ALS recommend scans scored since the last call (a benchmark statistic; reading resets it). */
  alsScoredItems(): number;
  setSimdLevel(level: string): void;
  setThreads(threads: number): void;
  setErrorClass(cls: new (message: string, code: string) => Error): void;
  buildCsr(
    rows: Int32Array,
    cols: Int32Array,
    values: Float32Array | null,
    timestamps: Float64Array | null,
    nRows: number,
    nCols: number,
    duplicates: string,
    cancel: Int32Array | null,
    onProgress: ProgressCallback,
  ): Promise<NativeCsr>;
  canonicalCsr(csr: NativeCsr, duplicates: string, cancel: Int32Array | null, onProgress: ProgressCallback): Promise<NativeCsr>;
  transpose(csr: NativeCsr, cancel: Int32Array | null, onProgress: ProgressCallback): Promise<NativeCsr>;
  columnCounts(csr: NativeCsr): Int32Array;
  orderByCount(counts: Int32Array): Int32Array;
  multiply(a: NativeCsr, b: NativeCsr, threads: number, cancel: Int32Array | null, onProgress: ProgressCallback): Promise<NativeCsr>;
  kmeans(
    values: Float32Array,
    rows: number,
    dims: number,
    options: NativeKMeansOptions,
    cancel: Int32Array | null,
    onProgress: ProgressCallback,
    onIteration: ((iteration: number, inertia: number) => void) | null,
  ): Promise<NativeKMeansResult>;
  nearestCentroid(
    values: Float32Array,
    rows: number,
    dims: number,
    centroids: Float32Array,
    k: number,
    threads: number,
    cancel: Int32Array | null,
    onProgress: ProgressCallback,
  ): Promise<Int32Array>;
  silhouette(
    values: Float32Array,
    rows: number,
    dims: number,
    labels: Int32Array,
    threads: number,
    cancel: Int32Array | null,
    onProgress: ProgressCallback,
  ): Promise<number>;
  easeFit(
    byUser: NativeCsr,
    byItem: NativeCsr,
    lambda: number,
    keep: number,
    threads: number,
    cancel: Int32Array | null,
    onProgress: ProgressCallback,
  ): Promise<{ weights: NativeCsr; gramSeconds: number; inverseSeconds: number; weightsSeconds: number; inverseFlops: number }>;
  easeFitBytes(items: number, keep: number): number;
  bprFit(
    data: NativeCsr,
    options: NativeBprOptions,
    cancel: Int32Array | null,
    onProgress: ProgressCallback,
    onEpoch: ((epoch: number, correct: number) => void) | null,
  ): Promise<{ width: number; userFactors: Float32Array; itemFactors: Float32Array; correct: Float64Array; skipped: number }>;
  bprStep(xu: Float32Array, yi: Float32Array, yj: Float32Array, learningRate: number, regularization: number): number;
  clvFit(
    model: NativeClvModel,
    customers: NativeClvCustomers,
    options: { maxIterations: number; tolerance: number; penalizer: number; threads: number },
    cancel: Int32Array | null,
    onProgress: ProgressCallback,
    onIteration: ((iteration: number, loss: number) => void) | null,
  ): Promise<NativeClvFit>;
  clvPerCustomer(
    model: NativeClvModel,
    quantity: 'alive' | 'expected',
    params: Float64Array,
    customers: NativeClvCustomers,
    t: number,
    threads: number,
    cancel: Int32Array | null,
    onProgress: ProgressCallback,
  ): Promise<Float64Array>;
  clvExpected(model: NativeClvModel, params: Float64Array, t: number): number;
  clvProbabilityOfPurchases(model: NativeClvModel, params: Float64Array, t: number, n: number): number;
  forestFit(
    x: NativeRows,
    categorical: Uint8Array | null,
    target: Float32Array | null,
    channel: Int32Array | null,
    weights: Float32Array | null,
    options: NativeForestOptions,
    cancel: Int32Array | null,
    onProgress: ProgressCallback,
  ): Promise<NativeForestFit>;
  /** A forest validated and packed for prediction. */
  ForestModel: new (forest: NativeForest) => NativeForestModel;
  /** Bootstrap means (or ratios of sums, with weight) of resamples of the rows: unsorted. */
  bootstrapMeans(term: Float64Array, weight: Float64Array | null, resamples: number, seed: number, threads: number, cancel: Int32Array | null, onProgress: ProgressCallback): Promise<Float64Array>;
  BanditModel: new (options: NativeBanditOptions, seed: number, state?: NativeBanditState) => NativeBanditModel;
  treeBins(x: NativeRows, categorical: Uint8Array | null, maxBins: number): { bins: Uint8Array; edges: Float32Array[]; binCount: Int32Array };
  logisticFit(
    features: NativeFeatures,
    labels: Float32Array,
    weights: Float32Array | null,
    options: NativeLogisticOptions,
    cancel: Int32Array | null,
    onProgress: ProgressCallback,
    onIteration: ((iteration: number, loss: number) => void) | null,
  ): Promise<NativeLogisticResult>;
  similarity(
    csr: NativeCsr,
    options: NativeSimilarityOptions,
    cancel: Int32Array | null,
    onProgress: ProgressCallback,
  ): Promise<{ n: number; topK?: NativeCsr; dense?: Float32Array }>;
  KnnModel: new (first: NativeCsr, second: NativeCsr, seen: NativeCsr) => NativeKnnModel;
  CsvReader: new (options: NativeCsvReaderOptions) => NativeCsvReader;
  alsFit(
    ui: NativeCsr,
    iu: NativeCsr,
    options: NativeAlsOptions,
    start: NativeAlsFactors | null,
    cancel: Int32Array | null,
    onProgress: ProgressCallback,
    onIteration: ((iteration: number, loss: number) => void) | null,
  ): Promise<NativeAlsFactors & { losses: Float64Array }>;
  alsSolveRows(
    rows: NativeCsr,
    options: NativeAlsOptions,
    model: NativeAlsFactors,
    byUsers: boolean,
    which: Int32Array,
    cancel: Int32Array | null,
    onProgress: ProgressCallback,
  ): Promise<NativeAlsFactors>;
  AlsModel: new (model: NativeAlsFactors, seen: NativeCsr, options: NativeAlsOptions) => NativeAlsModel;
  mapFile(path: string): ArrayBuffer;
  verifyCsr(csr: NativeCsr, sortedRows: boolean, cancel: Int32Array | null, onProgress: ProgressCallback): Promise<void>;
  verifyFinite(values: Float32Array, what: string, maxAbs?: number): Promise<void>;
  crc32(bytes: Uint8Array, previous?: number): Promise<number>;
  /** Tests only: the next guarded call ('call') or job ('job') throws the given fault instead of running. */
  injectFault(site: 'call' | 'job', fault: 'bad_alloc' | 'core' | 'std'): void;
}

function packageRoot(): string {
  // Works from bindings/ (tests, tsx) and from dist/bindings/ (built package).
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'binding.gyp'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('affinity: cannot find the package root from ' + fileURLToPath(import.meta.url));
}

function load(): NativeBinding {
  const require = createRequire(import.meta.url);
  const root = packageRoot();
  try {
    const nodeGypBuild = require('node-gyp-build') as (dir: string) => unknown;
    return nodeGypBuild(root) as NativeBinding;
  } catch (err) {
    const e = err as Error & { code?: string };
    // e.g. AFFINITY_SIMD names a level this CPU lacks: a clear error of ours (the caller gives it its class), not a broken install
    if (e.code && e.code.startsWith('ERR_AFFINITY_')) throw err;
    const libc = process.report?.getReport ? ((process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime ? 'glibc' : 'musl') : 'unknown';
    throw new Error(
      [
        `affinity: could not load the native addon for ${process.platform}-${process.arch} (${libc}, Node ${process.versions.node}, N-API ${process.versions.napi}).`,
        `Cause: ${e.message}`,
        'Fixes to try:',
        '  - reinstall so the addon is compiled here: npm rebuild affinity (needs python3, make and a C++20 compiler)',
        '  - or build from source explicitly: npm install --build-from-source affinity',
        `  - CPU: ${os.cpus()[0]?.model ?? 'unknown'}; prebuilt binaries target x86-64 (v1) and armv8-a`,
      ].join('\n'),
      { cause: err },
    );
  }
}

let binding: NativeBinding | undefined;

/**
 * The addon, loaded on first use. It knows nothing of the layers above it: whoever owns the error class
 * hands it over with setErrorClass (src/core/native.ts), as better-sqlite3 passes SqliteError to its addon.
 */
export function loadBinding(): NativeBinding {
  return (binding ??= load());
}
