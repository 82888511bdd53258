// Uplift models: whom a campaign changes. Three methods on the native forests, for one or several
// treatment arms against one control:
//   two-model             one regression forest per arm on that arm's rows; uplift = f_arm(x) - f_control(x)
//   class-transformation  per arm, a regression forest on the transformed outcome
//                         y* = y (w / p - (1 - w) / (1 - p)), whose mean given x is the uplift (p: the arm's
//                         known or observed share among its and the control's rows)
//   uplift-forest         trees that split on the treatment-effect difference itself (Euclidean distance or
//                         ΔΔP between the children's effects), with honest leaves: leaf means from half of
//                         each tree's sample the splits never saw.
import { native, type NativeForestOptions } from '../core/native.js';
import { AffinityError, ErrorCode, badInput } from '../core/errors.js';
import { runJob, type JobOptions } from '../core/jobs.js';
import { boolOption, intOption, numberOption, oneOf } from '../core/options.js';
import { checkSchema, FeatureTable, type Cell, type FeatureSchema } from '../data/featuretable.js';
import { IdMap, type Id } from '../data/ids.js';
import { selectRows, type Matrix } from '../data/matrix.js';
import type { ModelFile, ModelParts } from '../io/modelfile.js';
import { trainingMetadata, type TrainingMetadata } from '../models/contract.js';
import { sampleRows, splitIds, type HoldoutSample } from '../models/contract.js';
import { finite64, fromFile, idMapOf, optionsOf, saveParts } from '../models/parts.js';
import { checkMaxFeatures, forestArrays, forestFromFile, packed, predictRecordsWith, predictWith, resolveMaxFeatures, treeMatrix, type Forest, type Label } from './trees.js';
import { qiniAucScore, qiniCurve, upliftAtK, upliftAucScore, type Curve } from './upliftmetrics.js';

export type UpliftMethod = 'two-model' | 'class-transformation' | 'uplift-forest';

export interface UpliftOptions {
  method?: UpliftMethod;
  trees?: number;
  /** Default 8: treatment effects are small against the noise, and deep trees fit the noise. */
  maxDepth?: number;
  /** Default 50. */
  minSamplesLeaf?: number;
  /** uplift-forest: each arm needs this many rows in each child (default 10). */
  minSamplesArm?: number;
  maxFeatures?: 'sqrt' | 'log2' | 'all' | number;
  /** uplift-forest: 'euclidean' (default) or 'delta-delta-p'. */
  criterion?: 'euclidean' | 'delta-delta-p';
  /** uplift-forest: honest leaf estimates (default true). */
  honest?: boolean;
  /** class-transformation: the probability of treatment by arm (default: each arm's observed share). */
  treatmentProbability?: number | Record<string, number>;
  maxBins?: number;
  seed?: number;
  threads?: number;
}

export interface UpliftColumns {
  /** The outcome column (0/1 conversions or an amount). */
  outcome: string;
  /** The column that says which arm a row was in. */
  treatment: string;
  /** The control group's value in the treatment column. */
  control: Label;
}

export interface UpliftPrediction {
  /** The treatment arms (control excluded), the columns of `uplift`. */
  arms: string[];
  /** rows x arms: each arm's expected outcome minus the control's. */
  uplift: Float64Array;
  /** Per row, the index of the arm with the largest uplift. */
  best: Int32Array;
}

export interface UpliftArmReport {
  arm: string;
  rows: number;
  qini: number;
  auuc: number;
  upliftAt30: number;
  qiniCurve: Curve;
}

type Resolved = Required<Omit<UpliftOptions, 'treatmentProbability'>> & { treatmentProbability?: UpliftOptions['treatmentProbability'] };

const CRITERIA = { euclidean: 3, 'delta-delta-p': 4 } as const;

/**
 * ```ts
 * const table = await FeatureTable.fromFile('hillstrom.csv', { exclude: ['conversion', 'spend'] });
 * const model = await new UpliftModel({ method: 'uplift-forest' }).fit(table, { outcome: 'visit', treatment: 'segment', control: 'No E-Mail' });
 * const { arms, uplift } = await model.predict(table);
 * ```
 */
export class UpliftModel {
  static readonly kind = 'uplift';
  readonly kind = UpliftModel.kind;
  metadata?: TrainingMetadata;
  arms: string[] = [];
  control = '';
  schema?: FeatureSchema;
  /** Customers the model scores by id (see withCustomers), with their encoded feature rows. */
  customers?: { ids: IdMap; rows: Matrix };
  private forests: Forest[] = [];
  private importances: Float64Array[] = [];
  private readonly o: Resolved;

  constructor(options: UpliftOptions = {}) {
    if (options === null || typeof options !== 'object') throw badInput('options must be an object');
    const tp = options.treatmentProbability;
    const probabilityOk = (p: unknown) => typeof p === 'number' && p > 0 && p < 1;
    if (tp !== undefined && !probabilityOk(tp) && !(typeof tp === 'object' && tp !== null && Object.values(tp).every(probabilityOk)))
      throw badInput('treatmentProbability must be in (0, 1), or such a number per arm');
    const mf = checkMaxFeatures(options.maxFeatures ?? 'all');
    this.o = {
      method: oneOf(options.method, 'method', ['two-model', 'class-transformation', 'uplift-forest'], 'uplift-forest'),
      trees: intOption(options.trees, 'trees', 1, 100_000, 100),
      maxDepth: intOption(options.maxDepth, 'maxDepth', 0, 1 << 20, 8),
      minSamplesLeaf: intOption(options.minSamplesLeaf, 'minSamplesLeaf', 1, 0x7ffffffe, 50),
      minSamplesArm: intOption(options.minSamplesArm, 'minSamplesArm', 1, 0x7ffffffe, 10),
      maxFeatures: mf,
      criterion: oneOf(options.criterion, 'criterion', ['euclidean', 'delta-delta-p'], 'euclidean'),
      honest: boolOption(options.honest, 'honest', true),
      treatmentProbability: tp,
      maxBins: intOption(options.maxBins, 'maxBins', 2, 255, 255),
      seed: intOption(options.seed, 'seed', 0, 0xffffffff, 42),
      threads: intOption(options.threads, 'threads', 0, 256, 0),
    };
  }

  /**
   * Impurity importance per feature (the schema's order), averaged over the method's forests: for the
   * uplift forest, each feature's share of the treatment-effect divergence its splits gained.
   */
  get featureImportances(): Float64Array {
    const d = this.schema?.features.length ?? 0;
    const out = new Float64Array(d);
    for (const imp of this.importances) for (let j = 0; j < d; j++) out[j] += imp[j] / this.importances.length;
    return out;
  }

  get method(): UpliftMethod {
    return this.o.method;
  }

  get fitted(): boolean {
    return this.forests.length > 0;
  }

  async fit(table: FeatureTable, columns: UpliftColumns, options: JobOptions = {}): Promise<this> {
    if (!(table instanceof FeatureTable)) throw badInput('an uplift model trains on a FeatureTable');
    const { outcome, treatment, control } = checkColumns(columns);
    const schema = { features: table.schema.features.filter((c) => c.name !== outcome && c.name !== treatment) };
    if (schema.features.length === 0) throw badInput('the table has no feature columns');
    const y = table.numbers(outcome);
    y.forEach((v, i) => {
      if (!Number.isFinite(v)) throw badInput(`the outcome of row ${i} is missing or not a number`);
    });
    const labels = table.labels(treatment);
    const controlLabel = String(control);
    const arms = [...new Set(labels.filter((l): l is string => l !== null && l !== controlLabel))].sort();
    if (!labels.includes(controlLabel)) throw badInput(`no row has ${treatment} = ${JSON.stringify(controlLabel)} (the control group)`);
    if (arms.length === 0) throw badInput(`every row is in the control group: ${treatment} has no treatment arm`);
    const arm = Int32Array.from(labels, (l, i) => {
      if (l === null) throw badInput(`row ${i} has no ${treatment}`);
      return l === controlLabel ? 0 : arms.indexOf(l) + 1;
    });
    const x = table.encode(schema);
    const categorical = Uint8Array.from(schema.features, (c) => (c.kind === 'categorical' ? 1 : 0));
    const jobs = this.plan(x, y, arm, arms);
    const forests: Forest[] = [];
    const importances: Float64Array[] = [];
    for (let j = 0; j < jobs.length; j++) {
      const { rows, target, channel, outputs, task } = jobs[j];
      const sub = rows ? selectRows(x, rows) : x;
      const r = await runJob({ signal: options.signal, onProgress: options.onProgress && ((f) => options.onProgress!((j + f) / jobs.length)) }, (cancel, progress) =>
        native.forestFit(sub, categorical, target, channel, null, this.nativeOptions(task, outputs, x.dims, j), cancel, progress),
      );
      forests.push(packed(r.forest));
      importances.push(r.importances);
    }
    this.forests = forests;
    this.importances = importances;
    this.arms = arms;
    this.control = controlLabel;
    this.schema = schema;
    this.metadata = trainingMetadata({ rows: x.rows, features: x.dims, arms: arms.length }, { ...this.o, outcome, treatment, control: controlLabel });
    return this;
  }

  /** Each row's uplift per arm, and its best arm. */
  async predict(x: FeatureTable | Matrix, options: JobOptions = {}): Promise<UpliftPrediction> {
    const m = this.matrix(x);
    const outputs: Float32Array[] = [];
    for (const f of this.forests) outputs.push(await predictWith(f, m, this.o.threads, options));
    return this.combine(outputs, m.rows);
  }

  /** The same for a few rows given as objects keyed by feature name (a served request), on the calling thread. */
  predictRecords(records: readonly Record<string, Cell>[]): UpliftPrediction {
    this.requireFitted();
    return this.combine(this.forests.map((f) => predictRecordsWith(f, this.schema!, records)), records.length);
  }

  /**
   * Keeps the feature rows of these customers (a table with an `id` column: today's customers, not the
   * campaign's), so a server scores them by id; they are saved with the model.
   */
  withCustomers(table: FeatureTable): this {
    this.requireFitted();
    if (!(table instanceof FeatureTable) || table.id === undefined) throw badInput('withCustomers needs a FeatureTable with an id column (options.id)');
    const ids = table.labels(table.id);
    ids.forEach((id, i) => {
      if (id === null) throw badInput(`customer row ${i} has no id`);
    });
    const map = new IdMap(ids as string[], 'user');
    if (map.hasDuplicates()) throw badInput(`the ${table.id} column repeats an id`);
    this.customers = { ids: map, rows: this.matrix(table) };
    return this;
  }

  /** Uplift per arm of known customers (see withCustomers) in the order asked; the others in `unknown`. */
  async scoreCustomers(list: Id[], options: JobOptions = {}): Promise<UpliftPrediction & { customers: Id[]; unknown: Id[] }> {
    if (!this.customers) throw badInput('this uplift model keeps no customers: score feature rows, or attach customers with withCustomers');
    const { rows } = this.customers;
    const { indices, known, unknown } = splitIds(this.customers.ids, list, 'customers');
    return { ...(await this.predict(selectRows(rows, indices), options)), customers: known, unknown };
  }

  /** Qini coefficient, AUUC and uplift@30% per arm on labelled rows (each arm against the control). */
  async evaluate(table: FeatureTable, columns: Pick<UpliftColumns, 'outcome' | 'treatment'>, options: JobOptions = {}): Promise<UpliftArmReport[]> {
    const { uplift } = await this.predict(table, options);
    const y = table.numbers(columns.outcome);
    const labels = table.labels(columns.treatment);
    const k = this.arms.length;
    return this.arms.map((arm, a) => {
      const rows = labels.flatMap((l, i) => (l === arm || l === this.control ? [i] : []));
      const yy = rows.map((i) => y[i]);
      const uu = rows.map((i) => uplift[i * k + a]);
      const tt = rows.map((i) => (labels[i] === arm ? 1 : 0));
      return { arm, rows: rows.length, qini: qiniAucScore(yy, uu, tt), auuc: upliftAucScore(yy, uu, tt), upliftAt30: upliftAtK(yy, uu, tt, 0.3), qiniCurve: qiniCurve(yy, uu, tt) };
    });
  }

  /** What the model predicts for labelled rows it did not learn from, beside what happened: a sample for the metadata's holdout. */
  async holdoutSample(table: FeatureTable, columns: Pick<UpliftColumns, 'outcome' | 'treatment'>, options: JobOptions = {}): Promise<HoldoutSample> {
    const { uplift } = await this.predict(table, options);
    const y = table.numbers(columns.outcome);
    const labels = table.labels(columns.treatment);
    const rows = sampleRows(table.rows);
    const k = this.arms.length;
    return {
      kind: 'uplift',
      control: String(this.control),
      arm: rows.map((i) => String(labels[i])),
      outcome: rows.map((i) => y[i]),
      uplift: Object.fromEntries(this.arms.map((arm, a) => [arm, rows.map((i) => Math.round(uplift[i * k + a] * 1e5) / 1e5)])),
    };
  }

  async save(path: string): Promise<void> {
    await saveParts(this, path);
  }

  toParts(): ModelParts {
    this.requireFitted();
    const { treatmentProbability, ...options } = this.o;
    const arrays: ModelParts['arrays'] = {};
    this.forests.forEach((f, i) => Object.assign(arrays, forestArrays(f.arrays, this.importances[i], `f${i}.`)));
    if (this.customers) arrays['customers.rows'] = this.customers.rows.values;
    return {
      kind: UpliftModel.kind,
      header: {
        options: { ...options, ...(treatmentProbability !== undefined ? { treatmentProbability } : {}) },
        arms: this.arms,
        control: this.control,
        schema: this.schema,
        forests: this.forests.map((f) => f.arrays.outputs),
        customers: this.customers?.ids.size ?? 0,
        ...(this.customers ? { ids: { customers: [...this.customers.ids.ids] } } : {}),
      },
      arrays,
    };
  }

  static async fromParts(file: ModelFile): Promise<UpliftModel> {
    const { arms, control, schema, forests } = file.fields;
    const model = fromFile(file, () => new UpliftModel(optionsOf(file) as UpliftOptions));
    if (!Array.isArray(arms) || arms.length === 0 || !arms.every((a) => typeof a === 'string') || typeof control !== 'string') throw file.corrupt('arms missing');
    model.schema = fromFile(file, () => checkSchema(schema));
    const expected = model.layout(arms.length);
    if (!Array.isArray(forests) || forests.length !== expected.length || forests.some((o, i) => o !== expected[i])) throw file.corrupt('the forests do not match the method and arms');
    model.forests = expected.map((outputs, i) => forestFromFile(file, model.schema!.features.length, outputs, `f${i}.`));
    model.importances = expected.map((_, i) => finite64(file, `f${i}.importances`, model.schema!.features.length));
    model.arms = arms as string[];
    model.control = control;
    const n = file.fields.customers;
    if (n !== undefined && n !== 0) {
      if (!Number.isInteger(n) || (n as number) < 0) throw file.corrupt('bad customer count');
      const dims = model.schema.features.length;
      const values = file.f32('customers.rows', (n as number) * dims);
      const ids = (file.header.ids as { customers?: unknown } | undefined)?.customers;
      if (!Array.isArray(ids) || ids.length !== n) throw file.corrupt('customer ids do not match the rows');
      model.customers = { ids: await idMapOf(file, ids, 'user'), rows: { values, rows: n as number, dims } };
    }
    return model;
  }

  // The outputs of each forest the method trains.
  private layout(arms: number): number[] {
    if (this.o.method === 'uplift-forest') return [arms + 1];
    return Array.from({ length: this.o.method === 'two-model' ? arms + 1 : arms }, () => 1);
  }

  private plan(x: Matrix, y: Float64Array, arm: Int32Array, arms: string[]): { rows?: number[]; target: Float32Array; channel: Int32Array | null; outputs: number; task: number }[] {
    const rowsOf = (a: number) => Array.from(arm.keys()).filter((i) => arm[i] === a);
    if (this.o.method === 'uplift-forest') {
      for (let a = 0; a <= arms.length; a++) if (!arm.includes(a)) throw badInput(`arm ${a === 0 ? this.control : arms[a - 1]} has no rows`);
      return [{ target: Float32Array.from(y), channel: arm, outputs: arms.length + 1, task: 2 }];
    }
    if (this.o.method === 'two-model')
      return Array.from({ length: arms.length + 1 }, (_, a) => {
        const rows = rowsOf(a);
        return { rows, target: Float32Array.from(rows, (i) => y[i]), channel: null, outputs: 1, task: 1 };
      });
    const control = rowsOf(0);
    return arms.map((name, t) => {
      const treated = rowsOf(t + 1);
      const rows = [...control, ...treated].sort((a, b) => a - b);
      const tp = this.o.treatmentProbability;
      const p = typeof tp === 'number' ? tp : typeof tp === 'object' && tp[name] !== undefined ? tp[name] : treated.length / rows.length;
      return { rows, target: Float32Array.from(rows, (i) => y[i] * (arm[i] !== 0 ? 1 / p : -1 / (1 - p))), channel: null, outputs: 1, task: 1 };
    });
  }

  private nativeOptions(task: number, outputs: number, dims: number, index: number): NativeForestOptions {
    return {
      task,
      criterion: task === 2 ? CRITERIA[this.o.criterion] : 2,
      outputs,
      maxDepth: this.o.maxDepth,
      minSamplesSplit: 2,
      minSamplesLeaf: this.o.minSamplesLeaf,
      minSamplesArm: this.o.minSamplesArm,
      maxFeatures: resolveMaxFeatures(this.o.maxFeatures, dims),
      minImpurityDecrease: 0,
      honest: task === 2 && this.o.honest,
      trees: this.o.trees,
      bootstrap: true,
      maxBins: this.o.maxBins,
      seed: (this.o.seed + index) >>> 0,
      threads: this.o.threads,
    };
  }

  private combine(outputs: Float32Array[], rows: number): UpliftPrediction {
    const k = this.arms.length;
    const uplift = new Float64Array(rows * k);
    for (let r = 0; r < rows; r++)
      for (let a = 0; a < k; a++) {
        uplift[r * k + a] =
          this.o.method === 'uplift-forest'
            ? outputs[0][r * (k + 1) + a + 1] - outputs[0][r * (k + 1)]
            : this.o.method === 'two-model'
              ? outputs[a + 1][r] - outputs[0][r]
              : outputs[a][r];
      }
    const best = Int32Array.from({ length: rows }, (_, r) => {
      let b = 0;
      for (let a = 1; a < k; a++) if (uplift[r * k + a] > uplift[r * k + b]) b = a;
      return b;
    });
    return { arms: [...this.arms], uplift, best };
  }

  private matrix(x: FeatureTable | Matrix): Matrix {
    this.requireFitted();
    const m = treeMatrix(x, this.schema);
    if (m.dims !== this.schema!.features.length) throw new AffinityError(`x has ${m.dims} features, the model ${this.schema!.features.length}`, ErrorCode.DimMismatch);
    return m;
  }

  private requireFitted(): void {
    if (!this.fitted) throw new AffinityError('call fit() first', ErrorCode.NotFitted);
  }
}

function checkColumns(columns: UpliftColumns): UpliftColumns {
  if (columns === null || typeof columns !== 'object' || typeof columns.outcome !== 'string' || typeof columns.treatment !== 'string' || !['string', 'number', 'boolean'].includes(typeof columns.control))
    throw badInput('fit needs { outcome: column, treatment: column, control: value }');
  return columns;
}

export interface TargetingOptions {
  /** The most customers to contact. */
  budget?: number;
  /** What one contact costs (default 0). */
  costPerContact?: number;
  /** What one extra conversion (or unit of outcome) is worth (default 1). */
  valuePerConversion?: number;
}

export interface TargetingPlan {
  /** Row indices to contact, best first (their ids under `ids` when the table has an id column). */
  rows: Int32Array;
  ids?: string[];
  /** The arm to send each contacted row. */
  arms: string[];
  expectedIncrementalConversions: number;
  expectedProfit: number;
  /** Over customers ranked by uplift: after contacting the first i, the expected increment and profit. */
  curve: { contacted: Float64Array; incremental: Float64Array; profit: Float64Array };
}

/**
 * Whom to contact: customers ranked by their best arm's uplift, contacted while each adds expected value
 * (uplift x valuePerConversion > costPerContact) and the budget lasts.
 */
export async function targetingPlan(model: UpliftModel, customers: FeatureTable | Matrix, options: TargetingOptions, job: JobOptions = {}): Promise<TargetingPlan> {
  if (options === null || typeof options !== 'object' || (options.budget === undefined && options.costPerContact === undefined)) throw badInput('a targeting plan needs a budget or a costPerContact');
  const budget = options.budget === undefined ? Infinity : intOption(options.budget, 'budget', 0, 0x7ffffffe, 0);
  const cost = numberOption(options.costPerContact, 'costPerContact', 0, 0);
  const value = numberOption(options.valuePerConversion, 'valuePerConversion', 1, 0);
  const { arms, uplift, best } = await model.predict(customers, job);
  const k = arms.length;
  const n = best.length;
  const gain = Float64Array.from({ length: n }, (_, r) => uplift[r * k + best[r]]);
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => gain[b] - gain[a] || a - b);
  const contacted = new Float64Array(n + 1);
  const incremental = new Float64Array(n + 1);
  const profit = new Float64Array(n + 1);
  let chosen = 0;
  for (let i = 0; i < n; i++) {
    const u = gain[order[i]];
    contacted[i + 1] = i + 1;
    incremental[i + 1] = incremental[i] + u;
    profit[i + 1] = profit[i] + u * value - cost;
    if (i < budget && profit[i + 1] > profit[chosen] && u > 0) chosen = i + 1;
  }
  const rows = order.slice(0, chosen);
  const idColumn = customers instanceof FeatureTable ? customers.id : undefined;
  const ids = idColumn !== undefined ? (customers as FeatureTable).labels(idColumn) : undefined;
  return {
    rows,
    ...(ids ? { ids: Array.from(rows, (r) => ids[r] ?? '') } : {}),
    arms: Array.from(rows, (r) => arms[best[r]]),
    expectedIncrementalConversions: incremental[chosen],
    expectedProfit: profit[chosen],
    curve: { contacted, incremental, profit },
  };
}
