// Logistic regression (L2, L-BFGS, native) and the metrics of a binary classifier.
import { native, type NativeFeatures } from '../core/native.js';
import { AffinityError, ErrorCode, badInput } from '../core/errors.js';
import { runJob, type JobOptions } from '../core/jobs.js';
import { intOption, numberOption } from '../core/options.js';
import { fitStandardizer, standardize, type Standardizer } from './features.js';
import { toMatrix, type Matrix } from '../data/matrix.js';
import type { ModelFile, ModelParts } from '../io/modelfile.js';
import { trainingMetadata, type TrainingMetadata } from '../models/contract.js';
import { finite64, fromFile, optionsOf, saveParts } from '../models/parts.js';

/** Sparse features as CSR (SciPy's indptr/indices/data): rows x cols. */
export interface SparseFeatures {
  indptr: Int32Array;
  indices: Int32Array;
  data: Float32Array;
  shape: [number, number];
}

export type Features = Matrix | number[][] | SparseFeatures;

export interface LogisticOptions {
  /** L2 penalty on the coefficients (not the intercept), per unit of sample weight (default 1e-4). */
  l2?: number;
  fitIntercept?: boolean;
  maxIterations?: number;
  /** Converged when every gradient component is at most this (default 1e-6). */
  tolerance?: number;
  /** 'balanced' weighs each class by n / (2 n_class); or explicit weights per class. */
  classWeight?: 'balanced' | { 0: number; 1: number };
  /** Standardize dense features before fitting (default true); predictions apply the same transform. */
  standardize?: boolean;
  featureNames?: string[];
  threads?: number;
}

export interface LogisticFitOptions extends JobOptions {
  sampleWeight?: ArrayLike<number>;
  onIteration?: (iteration: number, loss: number) => void;
}

export interface ConvergenceReport {
  iterations: number;
  converged: boolean;
  loss: number;
  gradientNorm: number;
}

export interface Attribution {
  feature: string;
  /** coefficient x (standardized) value: its share of the log-odds. */
  contribution: number;
}

function isSparse(x: Features): x is SparseFeatures {
  return !Array.isArray(x) && typeof x === 'object' && x !== null && 'indptr' in x;
}

/**
 * L2-regularized logistic regression, trained natively with L-BFGS:
 *   minimize (1/S) Σ s_i [log(1 + e^{z_i}) - y_i z_i] + (l2/2) |w|²,  z_i = x_i·w + b
 */
export class LogisticRegression {
  static readonly kind = 'logistic';
  readonly kind = LogisticRegression.kind;
  metadata?: TrainingMetadata;
  coefficients: Float64Array = new Float64Array(0);
  intercept = 0;
  report?: ConvergenceReport;
  featureNames: string[] = [];
  private scaler?: Standardizer;
  private readonly o: Required<Omit<LogisticOptions, 'classWeight' | 'featureNames'>> & Pick<LogisticOptions, 'classWeight' | 'featureNames'>;

  constructor(options: LogisticOptions = {}) {
    if (options === null || typeof options !== 'object') throw badInput('options must be an object');
    const cw = options.classWeight;
    if (cw !== undefined && cw !== 'balanced' && !(typeof cw === 'object' && Number.isFinite(cw[0]) && Number.isFinite(cw[1]) && cw[0] >= 0 && cw[1] >= 0))
      throw badInput("classWeight must be 'balanced' or { 0: number, 1: number } with weights >= 0");
    this.o = {
      l2: numberOption(options.l2, 'l2', 1e-4, 0),
      fitIntercept: options.fitIntercept ?? true,
      maxIterations: intOption(options.maxIterations, 'maxIterations', 1, 1_000_000, 200),
      tolerance: numberOption(options.tolerance, 'tolerance', 1e-6, Number.MIN_VALUE),
      standardize: options.standardize ?? true,
      threads: intOption(options.threads, 'threads', 0, 256, 0),
      classWeight: cw,
      featureNames: options.featureNames,
    };
  }

  get fitted(): boolean {
    return this.report !== undefined;
  }

  async fit(x: Features, y: ArrayLike<number | boolean>, options: LogisticFitOptions = {}): Promise<this> {
    const { features, rows, dims, scaler } = this.prepare(x, true);
    if (y === null || typeof y !== 'object' || y.length !== rows) throw new AffinityError(`y must have ${rows} labels`, ErrorCode.DimMismatch);
    const labels = new Float32Array(rows);
    let positives = 0;
    for (let i = 0; i < rows; i++) {
      const v = y[i];
      if (v !== 0 && v !== 1 && v !== true && v !== false) throw badInput(`y[${i}] must be 0, 1, true or false`);
      labels[i] = v === true || v === 1 ? 1 : 0;
      positives += labels[i];
    }
    let weights: Float32Array | null = null;
    if (options.sampleWeight !== undefined || this.o.classWeight !== undefined) {
      weights = new Float32Array(rows).fill(1);
      if (options.sampleWeight !== undefined) {
        if (options.sampleWeight.length !== rows) throw new AffinityError(`sampleWeight must have ${rows} entries`, ErrorCode.DimMismatch);
        for (let i = 0; i < rows; i++) weights[i] = options.sampleWeight[i];
      }
      const cw = this.o.classWeight;
      if (cw !== undefined) {
        const w = cw === 'balanced' ? [rows / (2 * Math.max(1, rows - positives)), rows / (2 * Math.max(1, positives))] : [cw[0], cw[1]];
        for (let i = 0; i < rows; i++) weights[i] *= w[labels[i]];
      }
    }
    if (options.onIteration !== undefined && typeof options.onIteration !== 'function') throw badInput('onIteration must be a function');
    const r = await runJob(options, (cancel, progress) =>
      native.logisticFit(features, labels, weights, { ...this.o, memory: 10 }, cancel, progress, options.onIteration ?? null),
    );
    // Installed after success: a cancelled fit leaves the previous model.
    this.coefficients = r.coefficients;
    this.intercept = r.intercept;
    this.scaler = scaler;
    this.report = { iterations: r.iterations, converged: r.converged, loss: r.loss, gradientNorm: r.gradientNorm };
    this.featureNames = this.o.featureNames?.length === dims ? [...this.o.featureNames] : Array.from({ length: dims }, (_, d) => `x${d}`);
    const { featureNames: _, ...trained } = this.o;
    this.metadata = { ...trainingMetadata({ rows, features: dims, positives }, trained), quality: { loss: r.loss, iterations: r.iterations } };
    return this;
  }

  async save(path: string): Promise<void> {
    await saveParts(this, path);
  }

  toParts(): ModelParts {
    if (!this.report) throw new AffinityError('call fit() first', ErrorCode.NotFitted);
    const { featureNames: _, ...options } = this.o;
    return {
      kind: LogisticRegression.kind,
      header: { options, features: this.coefficients.length, intercept: this.intercept, featureNames: this.featureNames, report: this.report, standardized: this.scaler !== undefined },
      arrays: { coefficients: this.coefficients, ...(this.scaler ? { 'scaler.mean': this.scaler.mean, 'scaler.std': this.scaler.std } : {}) },
    };
  }

  static async fromParts(file: ModelFile): Promise<LogisticRegression> {
    const { features, intercept, featureNames, report, standardized } = file.fields;
    if (!Number.isInteger(features) || (features as number) < 0) throw file.corrupt('bad dimensions');
    const d = features as number;
    if (typeof intercept !== 'number' || !Number.isFinite(intercept)) throw file.corrupt('intercept is not a finite number');
    if (!Array.isArray(featureNames) || featureNames.length !== d || !featureNames.every((n) => typeof n === 'string')) throw file.corrupt('feature names do not match the coefficients');
    const r = report as ConvergenceReport | undefined;
    if (r === null || typeof r !== 'object' || typeof r.iterations !== 'number' || typeof r.converged !== 'boolean') throw file.corrupt('convergence report missing');
    const model = fromFile(file, () => new LogisticRegression(optionsOf(file) as LogisticOptions));
    model.coefficients = finite64(file, 'coefficients', d);
    model.intercept = intercept;
    model.featureNames = featureNames as string[];
    if (standardized === true) {
      const std = finite64(file, 'scaler.std', d);
      if (std.some((s) => !(s > 0))) throw file.corrupt('a standard deviation is not positive');
      model.scaler = { mean: finite64(file, 'scaler.mean', d), std };
    }
    model.report = { iterations: r.iterations, converged: r.converged, loss: r.loss, gradientNorm: r.gradientNorm };
    return model;
  }

  /** P(y = 1) per row. */
  predictProba(x: Features): Float64Array {
    const z = this.decision(x);
    return z.map((v) => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v))));
  }

  /** The log-odds x·w + b per row. */
  decision(x: Features): Float64Array {
    if (!this.report) throw new AffinityError('call fit() first', ErrorCode.NotFitted);
    const { features, rows, dims } = this.prepare(x, false);
    if (dims !== this.coefficients.length) throw new AffinityError(`x has ${dims} features, the model ${this.coefficients.length}`, ErrorCode.DimMismatch);
    const out = new Float64Array(rows).fill(this.intercept);
    const w = this.coefficients;
    if ('dense' in features) {
      for (let i = 0; i < rows; i++) for (let d = 0; d < dims; d++) out[i] += features.dense[i * dims + d] * w[d];
    } else {
      for (let i = 0; i < rows; i++) for (let p = features.indptr[i]; p < features.indptr[i + 1]; p++) out[i] += features.data[p] * w[features.indices[p]];
    }
    return out;
  }

  /** Per-feature contributions to the log-odds of one row (coefficient x value), largest magnitude first. */
  attributions(row: readonly number[] | Float32Array, top = Infinity): Attribution[] {
    const z = this.transformRow(row);
    return Array.from(z, (v, d) => ({ feature: this.featureNames[d], contribution: v * this.coefficients[d] }))
      .sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution))
      .slice(0, top);
  }

  private transformRow(row: readonly number[] | Float32Array): Float64Array {
    if (!this.report) throw new AffinityError('call fit() first', ErrorCode.NotFitted);
    if (row.length !== this.coefficients.length) throw new AffinityError(`the row has ${row.length} features, the model ${this.coefficients.length}`, ErrorCode.DimMismatch);
    return Float64Array.from(row, (v, d) => (this.scaler ? (v - this.scaler.mean[d]) / this.scaler.std[d] : v));
  }

  private prepare(x: Features, fitting: boolean): { features: NativeFeatures & ({ dense: Float32Array } | object); rows: number; dims: number; scaler?: Standardizer } {
    if (isSparse(x)) {
      const [rows, cols] = x.shape;
      if (!(x.indptr instanceof Int32Array) || !(x.indices instanceof Int32Array) || !(x.data instanceof Float32Array))
        throw badInput('sparse features need Int32Array indptr and indices and Float32Array data');
      return { features: { rows, cols, indptr: x.indptr, indices: x.indices, data: x.data }, rows, dims: cols };
    }
    let m = toMatrix(x, 'x');
    let scaler = fitting ? undefined : this.scaler;
    if (fitting && this.o.standardize) scaler = fitStandardizer(m);
    if (scaler) m = standardize(m, scaler);
    return { features: { dense: m.values, rows: m.rows, dims: m.dims }, rows: m.rows, dims: m.dims, scaler };
  }
}

export interface CalibrationBin {
  lower: number;
  upper: number;
  count: number;
  meanPredicted: number;
  observedRate: number;
}

export interface ClassificationMetrics {
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  /** Area under the ROC curve (ties count one half). */
  rocAuc: number;
  /** Average precision: Σ (R_n - R_{n-1}) P_n over thresholds, the step-wise area under the PR curve. */
  prAuc: number;
  calibration: CalibrationBin[];
  positives: number;
  negatives: number;
}

/** Metrics of predicted probabilities against 0/1 labels; the label is 1 where probability >= threshold. */
export function classificationMetrics(labels: ArrayLike<number | boolean>, probabilities: ArrayLike<number>, options: { threshold?: number; bins?: number } = {}): ClassificationMetrics {
  const n = labels.length;
  if (probabilities.length !== n) throw new AffinityError(`probabilities has ${probabilities.length} entries, labels ${n}`, ErrorCode.DimMismatch);
  const threshold = numberOption(options.threshold, 'threshold', 0.5);
  const bins = intOption(options.bins, 'bins', 1, 1000, 10);
  const y = Uint8Array.from({ length: n }, (_, i) => (labels[i] === true || labels[i] === 1 ? 1 : 0));
  let tp = 0, fp = 0, tn = 0, fn = 0;
  for (let i = 0; i < n; i++) {
    const p = probabilities[i];
    if (!Number.isFinite(p)) throw badInput(`probabilities[${i}] must be finite`);
    const predicted = p >= threshold;
    if (predicted && y[i]) tp++;
    else if (predicted) fp++;
    else if (y[i]) fn++;
    else tn++;
  }
  const positives = tp + fn;
  const negatives = tn + fp;
  const precision = tp + fp > 0 ? tp / (tp + fp) : 0;
  const recall = positives > 0 ? tp / positives : 0;
  // Sorted by descending probability; tied probabilities form one threshold step.
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => probabilities[b] - probabilities[a]);
  let rankSum = 0;
  let ap = 0;
  let seenTp = 0;
  let seen = 0;
  for (let start = 0; start < n; ) {
    let end = start;
    let groupPos = 0;
    while (end < n && probabilities[order[end]] === probabilities[order[start]]) groupPos += y[order[end++]];
    const groupNeg = end - start - groupPos;
    // Mann-Whitney: each positive beats the negatives ranked below it, and ties half of its group's negatives.
    rankSum += groupPos * (negatives - (seen - seenTp) - groupNeg) + 0.5 * groupPos * groupNeg;
    seen = end;
    seenTp += groupPos;
    if (groupPos > 0 && positives > 0) ap += (groupPos / positives) * (seenTp / seen);
    start = end;
  }
  const calibration: CalibrationBin[] = Array.from({ length: bins }, (_, b) => ({ lower: b / bins, upper: (b + 1) / bins, count: 0, meanPredicted: 0, observedRate: 0 }));
  for (let i = 0; i < n; i++) {
    const bin = calibration[Math.min(bins - 1, Math.max(0, Math.floor(probabilities[i] * bins)))];
    bin.count++;
    bin.meanPredicted += probabilities[i];
    bin.observedRate += y[i];
  }
  for (const b of calibration) if (b.count > 0) (b.meanPredicted /= b.count), (b.observedRate /= b.count);
  return {
    accuracy: n > 0 ? (tp + tn) / n : 0,
    precision,
    recall,
    f1: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0,
    rocAuc: positives > 0 && negatives > 0 ? rankSum / (positives * negatives) : NaN,
    prAuc: ap,
    calibration,
    positives,
    negatives,
  };
}
