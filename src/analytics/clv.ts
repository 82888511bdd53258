// Customer lifetime value: BG/NBD and Pareto/NBD for the purchase process, Gamma-Gamma for spend per
// purchase, fitted natively by maximum likelihood (native/core/clv.h has the models and their sources).
import { native, type NativeClvCustomers, type NativeClvModel } from '../core/native.js';
import { AffinityError, ErrorCode, badInput } from '../core/errors.js';
import { runJob, type JobOptions } from '../core/jobs.js';
import { intOption, numberOption } from '../core/options.js';
import type { ModelFile, ModelParts } from '../io/modelfile.js';
import { trainingMetadata, type TrainingMetadata } from '../models/contract.js';
import { finite64, fromFile, optionsOf, saveParts } from '../models/parts.js';

/** Customers as parallel arrays (what rfmSummary returns), in the literature's terms. */
export interface CustomerArrays {
  /** Repeat purchases. */
  frequency: ArrayLike<number>;
  /** Time of the last repeat purchase since the first (purchase models). */
  recency?: ArrayLike<number>;
  /** Time since the first purchase (purchase models). */
  T?: ArrayLike<number>;
  /** Mean spend of the repeat purchases (Gamma-Gamma). */
  monetary?: ArrayLike<number>;
  /** How many customers each row stands for (grouped data). */
  weights?: ArrayLike<number>;
}

/** One customer. */
export interface Customer {
  frequency: number;
  recency?: number;
  T?: number;
  monetary?: number;
}

export interface ClvOptions {
  /** Adds penalizer · Σ params² to the mean negative log-likelihood (lifetimes' penalizer_coef; default 0). */
  penalizer?: number;
  maxIterations?: number;
  /** On the gradient of the mean log-likelihood in log-parameters (default 1e-7). */
  tolerance?: number;
  threads?: number;
}

export interface ClvFitReport {
  logLikelihood: number;
  iterations: number;
  converged: boolean;
  gradientNorm: number;
  customers: number;
}

export type ClvFitOptions = JobOptions & { onIteration?: (iteration: number, loss: number) => void };

function float64(v: ArrayLike<number> | undefined, n: number, what: string): Float64Array | undefined {
  if (v === undefined) return undefined;
  if (v === null || typeof v !== 'object' || typeof v.length !== 'number') throw badInput(`${what} must be an array of numbers`);
  if (v.length !== n) throw new AffinityError(`${what} has ${v.length} entries, frequency ${n}`, ErrorCode.DimMismatch);
  const out = v instanceof Float64Array ? v : Float64Array.from(v);
  return out;
}

/** The native view of customers: one customer or arrays; `single` says which the caller gave. */
function customersOf(input: CustomerArrays | Customer): { data: NativeClvCustomers; single: boolean } {
  if (input === null || typeof input !== 'object') throw badInput('customers must be { frequency, recency, T } (or monetary), as numbers or arrays');
  const single = typeof input.frequency === 'number';
  const wrap = (v: unknown) => (v === undefined ? undefined : single ? [v as number] : (v as ArrayLike<number>));
  const frequency = float64(wrap(input.frequency), single ? 1 : (input.frequency as ArrayLike<number>)?.length ?? 0, 'frequency');
  if (!frequency) throw badInput('frequency is required');
  const n = frequency.length;
  const a = input as CustomerArrays;
  return {
    single,
    data: {
      frequency,
      recency: float64(wrap(input.recency), n, 'recency'),
      T: float64(wrap(input.T), n, 'T'),
      monetary: float64(wrap(input.monetary), n, 'monetary'),
      weights: single ? undefined : float64(a.weights, n, 'weights'),
    },
  };
}

function resolve(o: ClvOptions = {}) {
  if (o === null || typeof o !== 'object') throw badInput('options must be an object');
  return {
    penalizer: numberOption(o.penalizer, 'penalizer', 0, 0),
    maxIterations: intOption(o.maxIterations, 'maxIterations', 1, 100_000, 500),
    tolerance: numberOption(o.tolerance, 'tolerance', 1e-7, 0),
    threads: intOption(o.threads, 'threads', 0, 256, 0),
  };
}

/** What the three models share: options, a native fit, parameters with standard errors, files. */
abstract class ClvModelBase<P extends Record<string, number>> {
  abstract readonly kind: string;
  protected abstract readonly nativeName: NativeClvModel;
  protected abstract readonly names: readonly (keyof P & string)[];
  readonly options: ReturnType<typeof resolve>;
  metadata?: TrainingMetadata;
  report?: ClvFitReport;
  protected values?: Float64Array;
  protected errors?: Float64Array;

  constructor(options: ClvOptions = {}) {
    this.options = resolve(options);
  }

  get fitted(): boolean {
    return this.values !== undefined;
  }
  /** The maximum-likelihood parameters. */
  get params(): P {
    const v = this.fittedValues();
    return Object.fromEntries(this.names.map((n, i) => [n, v[i]])) as P;
  }
  /** Their standard errors, from the inverse Hessian of the log-likelihood (NaN where it is singular). */
  get standardErrors(): P {
    this.fittedValues();
    return Object.fromEntries(this.names.map((n, i) => [n, this.errors![i]])) as P;
  }
  protected fittedValues(): Float64Array {
    if (!this.values) throw new AffinityError(`call fit() first (or set params)`, ErrorCode.NotFitted);
    return this.values;
  }

  /** Sets known parameters (published estimates, another fit) instead of fitting. */
  setParams(params: P): this {
    const v = Float64Array.from(this.names, (n) => params?.[n] as number);
    v.forEach((x, i) => {
      if (!(Number.isFinite(x) && x > 0)) throw badInput(`${this.names[i]} must be a finite number > 0`);
    });
    this.values = v;
    this.errors = new Float64Array(v.length).fill(NaN);
    return this;
  }

  async fit(customers: CustomerArrays, options: ClvFitOptions = {}): Promise<this> {
    const { data } = customersOf(customers);
    if (options.onIteration !== undefined && typeof options.onIteration !== 'function') throw badInput('onIteration must be a function');
    const r = await runJob(options, (cancel, progress) => native.clvFit(this.nativeName, data, this.options, cancel, progress, options.onIteration ?? null));
    this.values = r.params;
    this.errors = r.standardErrors;
    this.report = { logLikelihood: r.logLikelihood, iterations: r.iterations, converged: r.converged, gradientNorm: r.gradientNorm, customers: data.frequency.length };
    this.metadata = trainingMetadata({ customers: data.frequency.length, logLikelihood: r.logLikelihood }, this.options);
    return this;
  }

  protected async perCustomer(what: 'alive' | 'expected', customers: CustomerArrays | Customer, t: number, options: JobOptions): Promise<number | Float64Array> {
    const { data, single } = customersOf(customers);
    const out = await runJob(options, (cancel, progress) => native.clvPerCustomer(this.nativeName, what, this.fittedValues(), data, t, this.options.threads, cancel, progress));
    return single ? out[0] : out;
  }

  async save(path: string): Promise<void> {
    await saveParts(this, path);
  }

  toParts(): ModelParts {
    const params = this.fittedValues();
    return { kind: this.kind, header: { options: this.options, params: this.names, report: this.report ?? null }, arrays: { params, standardErrors: this.errors! } };
  }

  /** @internal Reads parameters from a model file into a new model. */
  protected static read<M extends ClvModelBase<Record<string, number>>>(file: ModelFile, build: (o: ClvOptions) => M): M {
    const model = fromFile(file, () => build(optionsOf(file) as ClvOptions));
    const names = file.fields.params;
    if (!Array.isArray(names) || names.length !== model.names.length || names.some((n, i) => n !== model.names[i])) throw file.corrupt('parameter names do not match the kind');
    const values = finite64(file, 'params', names.length);
    if (values.some((v) => !(v > 0))) throw file.corrupt('a parameter is not positive');
    model.values = values;
    model.errors = file.f64('standardErrors', names.length);
    const r = file.fields.report as ClvFitReport | null | undefined;
    if (r !== null && r !== undefined && (typeof r !== 'object' || typeof r.converged !== 'boolean')) throw file.corrupt('fit report malformed');
    model.report = r ?? undefined;
    return model;
  }
}

/** What BG/NBD and Pareto/NBD answer. */
abstract class PurchaseModel<P extends Record<string, number>> extends ClvModelBase<P> {
  /** Expected repeat purchases of a new customer within t (time units of the data). */
  expectedPurchases(t: number): number {
    return native.clvExpected(this.nativeName, this.fittedValues(), t);
  }
  /** P(X(t) = n): the probability that a new customer makes n repeat purchases within t. */
  probabilityOfPurchases(t: number, n: number): number {
    return native.clvProbabilityOfPurchases(this.nativeName, this.fittedValues(), t, n);
  }
  /** P(the customer is still alive) at T, for one customer ({ frequency, recency, T }) or arrays. */
  probabilityAlive(customers: Customer): Promise<number>;
  probabilityAlive(customers: CustomerArrays, options?: JobOptions): Promise<Float64Array>;
  probabilityAlive(customers: CustomerArrays | Customer, options: JobOptions = {}): Promise<number | Float64Array> {
    return this.perCustomer('alive', customers, 0, options);
  }
  /** Expected purchases in the next t time units, given each customer's history. */
  conditionalExpectedPurchases(customers: Customer, t: number): Promise<number>;
  conditionalExpectedPurchases(customers: CustomerArrays, t: number, options?: JobOptions): Promise<Float64Array>;
  conditionalExpectedPurchases(customers: CustomerArrays | Customer, t: number, options: JobOptions = {}): Promise<number | Float64Array> {
    return this.perCustomer('expected', customers, t, options);
  }
}

export interface BetaGeoParams extends Record<string, number> {
  r: number;
  alpha: number;
  a: number;
  b: number;
}

/** BG/NBD (Fader, Hardie & Lee 2005): `await new BetaGeo().fit(rfmSummary(tx, { calibrationEnd }))`. */
export class BetaGeo extends PurchaseModel<BetaGeoParams> {
  static readonly kind = 'betageo';
  readonly kind = BetaGeo.kind;
  protected readonly nativeName = 'betageo';
  protected readonly names = ['r', 'alpha', 'a', 'b'] as const;
  static async fromParts(file: ModelFile): Promise<BetaGeo> {
    return ClvModelBase.read(file, (o) => new BetaGeo(o)) as BetaGeo;
  }
}

export interface ParetoNBDParams extends Record<string, number> {
  r: number;
  alpha: number;
  s: number;
  beta: number;
}

/** Pareto/NBD (Schmittlein, Morrison & Colombo 1987). */
export class ParetoNBD extends PurchaseModel<ParetoNBDParams> {
  static readonly kind = 'paretonbd';
  readonly kind = ParetoNBD.kind;
  protected readonly nativeName = 'paretonbd';
  protected readonly names = ['r', 'alpha', 's', 'beta'] as const;
  static async fromParts(file: ModelFile): Promise<ParetoNBD> {
    return ClvModelBase.read(file, (o) => new ParetoNBD(o)) as ParetoNBD;
  }
}

export interface GammaGammaParams extends Record<string, number> {
  p: number;
  q: number;
  v: number;
}

/**
 * Gamma-Gamma spend per purchase (Fader & Hardie 2013), fitted on the customers with repeat purchases. It
 * assumes spend does not depend on frequency: fit() measures their correlation and warns above 0.3.
 */
export class GammaGamma extends ClvModelBase<GammaGammaParams> {
  static readonly kind = 'gammagamma';
  readonly kind = GammaGamma.kind;
  protected readonly nativeName = 'gammagamma';
  protected readonly names = ['p', 'q', 'v'] as const;
  /** Pearson correlation of frequency and mean spend among the repeat customers of the last fit. */
  frequencySpendCorrelation?: number;

  override async fit(customers: CustomerArrays, options: ClvFitOptions = {}): Promise<this> {
    await super.fit(customers, options);
    const x = customers.frequency, m = customers.monetary ?? [];
    const pairs: [number, number][] = [];
    for (let i = 0; i < x.length; i++) if (x[i] > 0 && m[i] > 0) pairs.push([x[i], m[i]]);
    this.frequencySpendCorrelation = pearson(pairs);
    if (Math.abs(this.frequencySpendCorrelation) > 0.3)
      process.emitWarning(`frequency and spend are correlated (r = ${this.frequencySpendCorrelation.toFixed(3)}); Gamma-Gamma assumes they are not`, { code: 'AFFINITY_GAMMA_GAMMA_CORRELATION' });
    return this;
  }
  /** Expected mean spend per purchase given each customer's history (the population mean without repeats). */
  conditionalExpectedSpend(customers: Customer): Promise<number>;
  conditionalExpectedSpend(customers: CustomerArrays, options?: JobOptions): Promise<Float64Array>;
  conditionalExpectedSpend(customers: CustomerArrays | Customer, options: JobOptions = {}): Promise<number | Float64Array> {
    return this.perCustomer('expected', customers, 0, options);
  }
  static async fromParts(file: ModelFile): Promise<GammaGamma> {
    return ClvModelBase.read(file, (o) => new GammaGamma(o)) as GammaGamma;
  }
}

function pearson(pairs: [number, number][]): number {
  const n = pairs.length;
  if (n < 2) return 0;
  let mx = 0, my = 0;
  for (const [x, y] of pairs) (mx += x / n), (my += y / n);
  let sxy = 0, sxx = 0, syy = 0;
  for (const [x, y] of pairs) (sxy += (x - mx) * (y - my)), (sxx += (x - mx) ** 2), (syy += (y - my) ** 2);
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : 0;
}

export interface LifetimeValueOptions extends JobOptions {
  /** Months of cash flow (default 12). */
  months?: number;
  /** Monthly discount rate (default 0.01). */
  discountRate?: number;
  /** Time units of the data per month (default 4.345: weeks; 30.44 for days). */
  unitsPerMonth?: number;
}

/**
 * Discounted lifetime value per customer: Σ_{m=1..months} (E[purchases by m] - E[purchases by m-1]) ·
 * E[spend] / (1 + d)^m, as lifetimes' customer_lifetime_value.
 */
export async function customerLifetimeValue(
  purchases: BetaGeo | ParetoNBD,
  spend: GammaGamma,
  customers: CustomerArrays,
  options: LifetimeValueOptions = {},
): Promise<Float64Array> {
  const months = intOption(options.months, 'months', 1, 1200, 12);
  const rate = numberOption(options.discountRate, 'discountRate', 0.01, 0);
  const unitsPerMonth = numberOption(options.unitsPerMonth, 'unitsPerMonth', 4.345, 0);
  if (!(unitsPerMonth > 0)) throw badInput('unitsPerMonth must be > 0');
  const value = await spend.conditionalExpectedSpend(customers, options);
  const out = new Float64Array(value.length);
  let previous: Float64Array = new Float64Array(value.length);
  for (let m = 1; m <= months; m++) {
    const expected = await purchases.conditionalExpectedPurchases(customers, m * unitsPerMonth, options);
    const discount = (1 + rate) ** m;
    for (let i = 0; i < out.length; i++) out[i] += ((expected[i] - previous[i]) * value[i]) / discount;
    previous = expected;
  }
  return out;
}
