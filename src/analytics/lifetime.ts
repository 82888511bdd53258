// A served lifetime-value model: a purchase model and a spend model fitted on the customers of an RFM
// summary, with each customer's summary kept, so that a customer id is enough to answer P(alive), expected
// purchases and spend over the horizon, and the discounted value.
import { badInput } from '../core/errors.js';
import type { JobOptions } from '../core/jobs.js';
import { intOption, numberOption } from '../core/options.js';
import { IdMap, rowsWithout, type Id } from '../data/ids.js';
import type { ModelFile, ModelParts } from '../io/modelfile.js';
import { sampleRows, splitIds, trainingMetadata, withDataSizes, withUnknown, type HoldoutSample, type PartLoader, type TrainingMetadata } from '../models/contract.js';
import { finite64, fromFile, idMapOf, optionsOf, partsWithMeta, saveParts } from '../models/parts.js';
import { BetaGeo, GammaGamma, ParetoNBD, customerLifetimeValue, type ClvOptions } from './clv.js';
import type { RfmSummary } from './rfm.js';

export interface LifetimeValueModelOptions extends ClvOptions {
  /** The purchase model (default 'betageo'). */
  purchases?: 'betageo' | 'paretonbd';
  /** Months of value (default 12), the monthly discount rate (default 0.01), time units per month (4.345: weeks). */
  months?: number;
  discountRate?: number;
  unitsPerMonth?: number;
}

export interface CustomerValue {
  customer: Id;
  probabilityAlive: number;
  /** Expected repeat purchases over the horizon (months × unitsPerMonth). */
  expectedPurchases: number;
  /** Expected mean spend per purchase. */
  expectedSpend: number;
  /** Discounted value over the horizon. */
  value: number;
}

export class LifetimeValueModel {
  static readonly kind = 'clv';
  readonly kind = LifetimeValueModel.kind;
  metadata?: TrainingMetadata;

  /** @internal Use fit() or loadModel(). */
  constructor(
    readonly purchases: BetaGeo | ParetoNBD,
    readonly spend: GammaGamma,
    readonly customers: IdMap,
    /** Each customer's summary (frequency, recency, T, monetary), in the order of `customers`. */
    readonly summary: { frequency: Float64Array; recency: Float64Array; T: Float64Array; monetary: Float64Array },
    readonly options: { months: number; discountRate: number; unitsPerMonth: number },
  ) {}

  get fitted(): boolean {
    return true;
  }

  /**
   * Expected repeat purchases over a holdout of `weeks` (the summary's unit) for the summary's customers,
   * beside the purchases they made (rfmSummary with observationEnd): a sample for the metadata's holdout.
   */
  async holdoutSample(rfm: RfmSummary, weeks: number): Promise<HoldoutSample> {
    if (!rfm.holdoutFrequency) throw badInput('the summary has no holdout period: give rfmSummary an observationEnd');
    const predicted = await this.purchases.conditionalExpectedPurchases(rfm, weeks);
    const rows = sampleRows(rfm.customers.length);
    const round = (v: number) => Math.round(v * 1e4) / 1e4;
    return { kind: 'purchases', weeks, frequency: rows.map((i) => rfm.frequency[i]), predicted: rows.map((i) => round(predicted[i])), actual: rows.map((i) => rfm.holdoutFrequency![i]) };
  }

  /** Fits both models on an RFM summary (rfmSummary's output). */
  static async fit(rfm: RfmSummary, options: LifetimeValueModelOptions = {}, job: JobOptions = {}): Promise<LifetimeValueModel> {
    if (rfm === null || typeof rfm !== 'object' || !Array.isArray(rfm.customers)) throw badInput('fit needs an RFM summary (rfmSummary)');
    const horizon = {
      months: intOption(options.months, 'months', 1, 1200, 12),
      discountRate: numberOption(options.discountRate, 'discountRate', 0.01, 0),
      unitsPerMonth: numberOption(options.unitsPerMonth, 'unitsPerMonth', 4.345, 0),
    };
    const { purchases: kind = 'betageo', months: _m, discountRate: _d, unitsPerMonth: _u, ...fitOptions } = options;
    if (kind !== 'betageo' && kind !== 'paretonbd') throw badInput("purchases must be 'betageo' or 'paretonbd'");
    const purchases = await (kind === 'betageo' ? new BetaGeo(fitOptions) : new ParetoNBD(fitOptions)).fit(rfm, job);
    const spend = await new GammaGamma(fitOptions).fit(rfm, job);
    const customers = new IdMap(rfm.customers, 'user');
    await customers.buildIndex();
    if (customers.hasDuplicates()) throw badInput('the summary names a customer twice');
    const model = new LifetimeValueModel(purchases, spend, customers, { frequency: Float64Array.from(rfm.frequency), recency: Float64Array.from(rfm.recency), T: Float64Array.from(rfm.T), monetary: Float64Array.from(rfm.monetary) }, horizon);
    model.metadata = trainingMetadata({ customers: customers.size }, { purchases: kind, ...horizon });
    return model;
  }

  /** The value of the listed customers (the known ones, in order; the others in `unknown`). */
  async valueOf(list: Id[], options: JobOptions = {}): Promise<CustomerValue[] & { readonly unknown: Id[] }> {
    const { indices, known, unknown } = splitIds(this.customers, list, 'customers');
    const pick = (a: Float64Array) => Float64Array.from(indices, (i) => a[i]);
    const rows = { frequency: pick(this.summary.frequency), recency: pick(this.summary.recency), T: pick(this.summary.T), monetary: pick(this.summary.monetary) };
    if (known.length === 0) return withUnknown([], unknown);
    const { months, discountRate, unitsPerMonth } = this.options;
    const [alive, expected, spend, value] = await Promise.all([
      this.purchases.probabilityAlive(rows, options),
      this.purchases.conditionalExpectedPurchases(rows, months * unitsPerMonth, options),
      this.spend.conditionalExpectedSpend(rows, options),
      customerLifetimeValue(this.purchases, this.spend, rows, { months, discountRate, unitsPerMonth, ...options }),
    ]);
    return withUnknown(
      known.map((customer, i) => ({ customer, probabilityAlive: alive[i], expectedPurchases: expected[i], expectedSpend: spend[i], value: value[i] })),
      unknown,
    );
  }

  /** Erasure: the model without these customers' summaries (the fitted parameters stay until the next fit). */
  async withoutCustomers(customers: Id[]): Promise<LifetimeValueModel> {
    const rows = rowsWithout(this.customers, customers);
    if (!rows) return this;
    const pick = (a: Float64Array) => Float64Array.from(rows, (r) => a[r]);
    const { frequency, recency, T, monetary } = this.summary;
    const out = new LifetimeValueModel(this.purchases, this.spend, new IdMap(Array.from(rows, (r) => this.customers.ids[r]), 'user'), { frequency: pick(frequency), recency: pick(recency), T: pick(T), monetary: pick(monetary) }, this.options);
    out.metadata = withDataSizes(this.metadata, { customers: rows.length });
    return out;
  }

  async save(path: string): Promise<void> {
    await saveParts(this, path);
  }

  toParts(): ModelParts {
    return {
      kind: LifetimeValueModel.kind,
      header: { options: this.options, customers: this.customers.size, ids: { customers: this.customers.ids } },
      arrays: { ...this.summary },
      parts: { purchases: partsWithMeta(this.purchases), spend: partsWithMeta(this.spend) },
    };
  }

  static async fromParts(file: ModelFile, loadPart: PartLoader): Promise<LifetimeValueModel> {
    const n = file.fields.customers;
    if (!Number.isInteger(n) || (n as number) < 0) throw file.corrupt('bad dimensions');
    const ids = (file.header.ids as { customers?: unknown } | undefined)?.customers;
    if (!Array.isArray(ids) || ids.length !== n) throw file.corrupt('id maps do not match the dimensions');
    const o = optionsOf(file) as { months?: unknown; discountRate?: unknown; unitsPerMonth?: unknown };
    const options = fromFile(file, () => ({
      months: intOption(o.months, 'months', 1, 1200, 12),
      discountRate: numberOption(o.discountRate, 'discountRate', 0.01, 0),
      unitsPerMonth: numberOption(o.unitsPerMonth, 'unitsPerMonth', 4.345, 0),
    }));
    const summary = {
      frequency: finite64(file, 'frequency', n as number),
      recency: finite64(file, 'recency', n as number),
      T: finite64(file, 'T', n as number),
      monetary: finite64(file, 'monetary', n as number),
    };
    const purchases = await loadPart(file.part('purchases'));
    const spend = await loadPart(file.part('spend'));
    if (!(purchases instanceof BetaGeo || purchases instanceof ParetoNBD)) throw file.corrupt(`part purchases holds a ${purchases.kind} model`);
    if (!(spend instanceof GammaGamma)) throw file.corrupt(`part spend holds a ${spend.kind} model`);
    return new LifetimeValueModel(purchases, spend, await idMapOf(file, ids, 'user'), summary, options);
  }
}
