// Offers that learn: a multi-armed or contextual bandit over named offers. The numeric state (counts,
// per-offer ridge models and their Sherman-Morrison inverses, the generator) lives natively
// (native/core/bandit.h); this class owns the offers: ids, retirement, eligibility rules and caps.
// Every decision carries its propensity, which is what off-policy evaluation needs later.
import { native, type NativeBanditModel, type NativeBanditOptions, type NativeBanditState } from '../core/native.js';
import { AffinityError, ErrorCode, badInput } from '../core/errors.js';
import { intOption, numberOption, oneOf } from '../core/options.js';
import { runJob, type JobOptions } from '../core/jobs.js';
import { checkId, type Id } from '../data/ids.js';
import type { ModelFile, ModelParts } from '../io/modelfile.js';
import type { TrainingMetadata } from '../models/contract.js';
import { finite64, fromFile, optionsOf, saveParts } from '../models/parts.js';

export const BANDIT_POLICIES = ['epsilon-greedy', 'ucb1', 'thompson', 'linucb', 'lin-thompson', 'logistic-thompson'] as const;
export type BanditPolicyName = (typeof BANDIT_POLICIES)[number];

/** A condition on one attribute of the customer (decide's `attributes`, or the named context). */
export type Condition = { eq?: unknown; ne?: unknown; in?: unknown[]; gte?: number; gt?: number; lte?: number; lt?: number };

export interface OfferOptions {
  /** Hybrid linucb: the offer's own features (offerDims of them). */
  features?: number[];
  /** Stop offering it after this many rewarded decisions (reward > 0): a coupon budget. */
  maxRedemptions?: number;
  /** Stop offering it after this many decisions. */
  maxShows?: number;
  /** Offer it only to customers whose attributes pass every condition: `{ country: { in: ['DE'] }, age: { gte: 18 } }`. */
  when?: Record<string, Condition>;
}

export interface OfferSpec extends OfferOptions {
  id: Id;
}

export interface BanditOptions {
  policy: BanditPolicyName;
  /** The offers: their ids, or specs with rules and caps, or a count (ids 0..n-1). */
  arms: number | readonly (Id | OfferSpec)[];
  /** Context features (contextual policies). Or name them with featureNames. */
  dims?: number;
  featureNames?: string[];
  /** Hybrid linucb (Li et al. 2010): features per offer; the shared part is context x offer features. */
  offerDims?: number;
  seed?: number;
  /** epsilon-greedy: exploration probability (default 0.1). */
  epsilon?: number;
  /** linucb: the width of the upper bound (default 1); ucb1: its scale (default 1). */
  alpha?: number;
  /** lin-thompson, logistic-thompson: posterior scale v (default 1). */
  scale?: number;
  /** Ridge penalty of the linear policies (default 1). */
  lambda?: number;
  /** thompson: the Beta prior (default 1, 1). */
  prior?: [number, number];
  /** Thompson policies: draws that estimate a decision's propensity (default 256). */
  propensitySamples?: number;
}

/** A customer's context: the feature vector (dims values), or a record by featureNames. */
export type BanditContext = ArrayLike<number> | Record<string, unknown>;

export interface DecideOptions {
  /** Choose among these offers only (unknown and retired ones are ignored). */
  candidates?: Id[];
  /** What eligibility rules (`when`) test; a record context is used when this is absent. */
  attributes?: Record<string, unknown>;
}

export interface BanditDecision {
  arm: Id;
  /** The probability the policy had of choosing this arm: log it with the decision. */
  propensity: number;
}

export interface OfferStats {
  arm: Id;
  active: boolean;
  shows: number;
  /** Rewards received (updates). */
  rewarded: number;
  redemptions: number;
  rewardSum: number;
  /** rewardSum / rewarded (NaN before the first). */
  meanReward: number;
}

interface Offer extends OfferOptions {
  id: Id;
  active: boolean;
  shows: number;
  redemptions: number;
}

const POLICY_CODE: Record<BanditPolicyName, number> = { 'epsilon-greedy': 0, ucb1: 1, thompson: 2, linucb: 3, 'lin-thompson': 4, 'logistic-thompson': 5 };
const CONTEXTUAL: readonly BanditPolicyName[] = ['linucb', 'lin-thompson', 'logistic-thompson'];
const STATE_ARRAYS = ['count', 'rewardSum', 'ainv', 'b', 'theta', 'offerFeatures', 'shared', 'a0', 'a0inv', 'b0'] as const;

/**
 * ```ts
 * const bandit = new Bandit({ policy: 'linucb', arms: ['none', '10off', 'freeship'], featureNames: ['recency', 'frequency'], seed: 7 });
 * const { arm, propensity } = bandit.decide({ recency: 0.2, frequency: 3 });
 * bandit.update(arm, 1, { recency: 0.2, frequency: 3 }); // it was redeemed
 * ```
 */
export class Bandit {
  static readonly kind = 'bandit';
  readonly kind = Bandit.kind;
  metadata?: TrainingMetadata;
  readonly policy: BanditPolicyName;
  readonly dims: number;
  readonly featureNames: string[];
  private readonly o: NativeBanditOptions & { seed: number; featureNames?: string[] };
  private core: NativeBanditModel;
  private offers: Offer[] = [];
  private readonly index = new Map<Id, number>();
  private readonly x: Float64Array;
  private readonly out = new Float64Array(2);
  /** The active offers when none has rules or caps (the usual case), so a plain decision builds no list. */
  private allActive: Int32Array | null = null;

  constructor(options: BanditOptions, state?: NativeBanditState) {
    if (options === null || typeof options !== 'object') throw badInput('options must be an object');
    if (options.policy === undefined) throw badInput(`policy is required: one of ${BANDIT_POLICIES.join(', ')}`);
    this.policy = oneOf(options.policy, 'policy', BANDIT_POLICIES, 'epsilon-greedy');
    const names = options.featureNames;
    if (names !== undefined && (!Array.isArray(names) || !names.every((n) => typeof n === 'string') || new Set(names).size !== names.length))
      throw badInput('featureNames must be distinct strings');
    const dims = intOption(options.dims, 'dims', 0, 4096, names?.length ?? 0);
    if (names !== undefined && names.length !== dims) throw new AffinityError(`featureNames names ${names.length} features, dims is ${dims}`, ErrorCode.DimMismatch);
    if (CONTEXTUAL.includes(this.policy) && dims === 0) throw badInput(`${this.policy} is contextual: give dims or featureNames`);
    if ((this.policy === 'ucb1' || this.policy === 'thompson') && dims > 0) throw badInput(`${this.policy} takes no context (dims must be 0)`);
    const prior = options.prior ?? [1, 1];
    if (!Array.isArray(prior) || prior.length !== 2) throw badInput('prior must be [alpha, beta]');
    this.o = {
      policy: POLICY_CODE[this.policy],
      dims,
      offerDims: intOption(options.offerDims, 'offerDims', 0, 1024, 0),
      epsilon: numberOption(options.epsilon, 'epsilon', 0.1, 0),
      alpha: numberOption(options.alpha, 'alpha', 1, 0),
      scale: numberOption(options.scale, 'scale', 1, 0),
      lambda: numberOption(options.lambda, 'lambda', 1, Number.MIN_VALUE),
      priorAlpha: numberOption(prior[0], 'prior[0]', 1, Number.MIN_VALUE),
      priorBeta: numberOption(prior[1], 'prior[1]', 1, Number.MIN_VALUE),
      propensitySamples: intOption(options.propensitySamples, 'propensitySamples', 1, 1_000_000, 256),
      seed: intOption(options.seed, 'seed', 0, 0xffffffff, 42),
      featureNames: names ? [...names] : undefined,
    };
    if (this.o.epsilon > 1) throw badInput('epsilon must be in [0, 1]');
    this.dims = dims;
    this.featureNames = names ? [...names] : Array.from({ length: dims }, (_, d) => `x${d}`);
    this.x = new Float64Array(dims);
    this.core = new native.BanditModel(this.o, this.o.seed, state);
    if (state) return;
    const arms = options.arms;
    const specs: (Id | OfferSpec)[] = typeof arms === 'number' ? Array.from({ length: intOption(arms, 'arms', 1, 1_000_000, 0) }, (_, i) => i) : Array.isArray(arms) ? [...arms] : [];
    if (specs.length === 0) throw badInput('arms must be a positive count or a non-empty list of offers');
    for (const s of specs) typeof s === 'object' && s !== null ? this.addArm(s.id, s) : this.addArm(s as Id);
  }

  /** A bandit is usable from the start: it learns as it decides. */
  get fitted(): boolean {
    return true;
  }

  /** The offers, active and retired, in the order they were added. */
  get arms(): Id[] {
    return this.offers.map((o) => o.id);
  }

  /** Adds an offer (or brings back a retired one with what it had learned). Takes effect at the next decision. */
  addArm(id: Id, options: OfferOptions = {}): this {
    checkId(id, 'arm');
    if (options === null || typeof options !== 'object') throw badInput('offer options must be an object');
    const known = this.index.get(id);
    const rules = checkOfferOptions(options, this.o.offerDims);
    if (known !== undefined) {
      if (this.offers[known].active) throw badInput(`offer ${JSON.stringify(id)} is already active`);
      Object.assign(this.offers[known], { ...rules, features: this.offers[known].features, active: true });
      this.allActive = null;
      return this;
    }
    const arm = this.core.addArm(this.o.offerDims > 0 ? Float64Array.from(rules.features ?? []) : null);
    this.offers[arm] = { ...rules, id, active: true, shows: 0, redemptions: 0 };
    this.index.set(id, arm);
    this.allActive = null;
    return this;
  }

  /** Stops offering it; its state stays (addArm brings it back). */
  retireArm(id: Id): this {
    this.offers[this.armIndex(id)].active = false;
    this.allActive = null;
    return this;
  }

  /** Chooses an offer for this context, or null when no offer is eligible. Counts a show. */
  decide(context?: BanditContext, options: DecideOptions = {}): BanditDecision | null {
    const candidates = this.candidates(context, options);
    if (candidates.length === 0) return null;
    const arm = this.core.decide(this.encode(context), candidates, this.out);
    this.offers[arm].shows++;
    return { arm: this.offers[arm].id, propensity: this.out[1] };
  }

  /** Counts a show of an offer decided elsewhere (a decision log replayed after a restart). */
  recordShow(arm: Id): void {
    this.offers[this.armIndex(arm)].shows++;
  }

  /** Learns from the reward of a decision (the context it was made in). Thompson policies take rewards in [0, 1]. */
  update(arm: Id, reward: number, context?: BanditContext): void {
    const a = this.armIndex(arm);
    if (typeof reward !== 'number') throw badInput('reward must be a number');
    this.core.update(a, this.encode(context), reward);
    if (reward > 0) this.offers[a].redemptions++;
  }

  /**
   * The policy's probability of each offer (in `arms` order; 0 for those not eligible) for a context,
   * without changing any state. Thompson policies estimate them from `samples` draws seeded by `seed`.
   */
  probabilities(context?: BanditContext, options: DecideOptions & { seed?: number; samples?: number } = {}): Float64Array {
    const out = new Float64Array(this.offers.length);
    const candidates = this.candidates(context, options);
    if (candidates.length === 0) return out;
    const p = this.core.probabilities(this.encode(context), candidates, intOption(options.seed, 'seed', 0, 0xffffffff, 0), intOption(options.samples, 'samples', 1, 1_000_000, 1000));
    candidates.forEach((a, j) => (out[a] = p[j]));
    return out;
  }

  /**
   * probabilities() for every row of a contexts matrix (rows x dims, row-major), as rows x arms: what
   * offPolicyValue needs to evaluate this policy on logs. Runs as a job on the state as it is now.
   */
  async probabilitiesFor(contexts: Float64Array | null, rows: number, options: JobOptions & { seed?: number; samples?: number; threads?: number; candidates?: Id[] } = {}): Promise<Float64Array> {
    const candidates = this.candidates(undefined, { candidates: options.candidates }, false);
    if (candidates.length === 0) throw badInput('no active offer to evaluate');
    if (!Number.isInteger(rows) || rows < 0) throw badInput('rows must be an integer >= 0');
    if (this.dims > 0 && (!(contexts instanceof Float64Array) || contexts.length !== rows * this.dims)) throw new AffinityError(`contexts must be a Float64Array of rows x ${this.dims}`, ErrorCode.DimMismatch);
    const seed = intOption(options.seed, 'seed', 0, 0xffffffff, 0);
    const samples = intOption(options.samples, 'samples', 1, 1_000_000, 1000);
    const threads = intOption(options.threads, 'threads', 0, 256, 0);
    const p = await runJob(options, (cancel, progress) => this.core.probabilitiesBatch(this.dims > 0 ? contexts : null, rows, candidates, seed, samples, threads, cancel, progress));
    if (candidates.length === this.offers.length) return p;
    const out = new Float64Array(rows * this.offers.length);
    for (let r = 0; r < rows; r++) candidates.forEach((a, j) => (out[r * this.offers.length + a] = p[r * candidates.length + j]));
    return out;
  }

  /** Per offer: shows, rewards and their mean. */
  stats(): OfferStats[] {
    const { count, rewardSum } = this.core.counts();
    return this.offers.map((o, a) => ({ arm: o.id, active: o.active, shows: o.shows, rewarded: count[a], redemptions: o.redemptions, rewardSum: rewardSum[a], meanReward: count[a] > 0 ? rewardSum[a] / count[a] : NaN }));
  }

  /** A linear policy's coefficients for an offer (its theta; empty for the non-contextual policies). */
  coefficients(arm: Id): Float64Array {
    return this.core.coefficients(this.armIndex(arm));
  }

  /** A linear policy's estimate for an offer and context: mean and the width of its interval (sqrt(x^T A^-1 x)). */
  estimate(arm: Id, context: BanditContext): { mean: number; width: number } {
    if (this.dims === 0) throw new AffinityError(`${this.policy} has no linear model`, ErrorCode.Unsupported);
    const t = this.core.linearTerms(this.armIndex(arm), this.encode(context));
    return { mean: t[0], width: Math.sqrt(Math.max(0, t[1])) };
  }

  /** The context as the native side takes it (dims values), checked. */
  encode(context: BanditContext | undefined): Float64Array | null {
    if (this.dims === 0) {
      if (context !== undefined && !isRecord(context) && (context as ArrayLike<number>).length > 0) throw badInput(`${this.policy} takes no context`);
      return null;
    }
    if (context === undefined || context === null || typeof context !== 'object') throw badInput(`this bandit needs a context of ${this.dims} features`);
    if (isRecord(context)) {
      if (this.o.featureNames === undefined) throw badInput('a record context needs featureNames');
      this.o.featureNames.forEach((name, d) => {
        const v = context[name];
        if (typeof v !== 'number' || !Number.isFinite(v)) throw badInput(`context.${name} must be a finite number, got ${String(v)}`);
        this.x[d] = v;
      });
    } else {
      if (context.length !== this.dims) throw new AffinityError(`the context has ${context.length} values, the bandit ${this.dims}`, ErrorCode.DimMismatch);
      for (let d = 0; d < this.dims; d++) {
        const v = context[d];
        if (typeof v !== 'number' || !Number.isFinite(v)) throw badInput(`context[${d}] must be a finite number`);
        this.x[d] = v;
      }
    }
    return this.x;
  }

  private armIndex(id: Id): number {
    const a = this.index.get(id);
    if (a === undefined) throw new AffinityError(`unknown offer ${JSON.stringify(id)}`, ErrorCode.UnknownId);
    return a;
  }

  /** Active offers that pass their rules and caps, within the caller's candidates. */
  private candidates(context: BanditContext | undefined, options: DecideOptions, rules = true): Int32Array {
    if (options === null || typeof options !== 'object') throw badInput('options must be an object');
    if (options.candidates === undefined) {
      this.allActive ??= this.offers.some((o) => o.active && (o.maxShows !== undefined || o.maxRedemptions !== undefined || o.when !== undefined)) ? null : Int32Array.from(this.offers.flatMap((o, a) => (o.active ? [a] : [])));
      if (this.allActive) return this.allActive;
    }
    let pool: number[];
    if (options.candidates !== undefined) {
      if (!Array.isArray(options.candidates)) throw badInput('candidates must be an array of offer ids');
      pool = [];
      for (const id of options.candidates) {
        checkId(id, 'candidates');
        const a = this.index.get(id);
        if (a !== undefined) pool.push(a);
      }
    } else pool = this.offers.map((_, a) => a);
    const attributes = options.attributes ?? (context !== undefined && isRecord(context) ? context : undefined);
    if (attributes !== undefined && (attributes === null || typeof attributes !== 'object')) throw badInput('attributes must be an object');
    return Int32Array.from(
      new Set(
        pool.filter((a) => {
          const o = this.offers[a];
          if (!o.active) return false;
          if (!rules) return true;
          if (o.maxShows !== undefined && o.shows >= o.maxShows) return false;
          if (o.maxRedemptions !== undefined && o.redemptions >= o.maxRedemptions) return false;
          return o.when === undefined || passes(o.when, attributes);
        }),
      ),
    );
  }

  async save(path: string): Promise<void> {
    await saveParts(this, path);
  }

  toParts(): ModelParts {
    const s = this.core.snapshot();
    const { seed, featureNames, policy: _, ...options } = this.o;
    return {
      kind: Bandit.kind,
      header: { options: { ...options, policy: this.policy, seed, featureNames }, arms: s.arms, offers: this.offers },
      arrays: { ...Object.fromEntries(STATE_ARRAYS.map((k) => [k, s[k]])), rng: Float64Array.from(s.rng) },
    };
  }

  static async fromParts(file: ModelFile): Promise<Bandit> {
    const { arms, offers } = file.fields;
    if (!Number.isInteger(arms) || (arms as number) < 0 || !Array.isArray(offers) || offers.length !== arms) throw file.corrupt('the offers do not match the state');
    const o = optionsOf(file) as Record<string, unknown>;
    const rng = finite64(file, 'rng', 4);
    if (rng.some((v) => !Number.isInteger(v) || v < 0 || v > 0xffffffff)) throw file.corrupt('bad generator state');
    const state = { arms: arms as number, ...Object.fromEntries(STATE_ARRAYS.map((k) => [k, finite64(file, k)])), rng: Uint32Array.from(rng) } as NativeBanditState;
    const prior = [o.priorAlpha, o.priorBeta] as [number, number];
    const bandit = fromFile(file, () => new Bandit({ ...(o as unknown as BanditOptions), prior, arms: 0 }, state));
    fromFile(file, () => {
      for (const [a, raw] of (offers as unknown[]).entries()) {
        const offer = raw as Offer;
        if (offer === null || typeof offer !== 'object') throw badInput(`offer ${a} is not an object`);
        checkId(offer.id, 'offer id');
        if (bandit.index.has(offer.id)) throw badInput(`offer ${JSON.stringify(offer.id)} appears twice`);
        if (typeof offer.active !== 'boolean' || !(Number.isInteger(offer.shows) && offer.shows >= 0) || !(Number.isInteger(offer.redemptions) && offer.redemptions >= 0)) throw badInput(`offer ${a} has bad counters`);
        bandit.offers.push({ ...checkOfferOptions(offer, bandit.o.offerDims), id: offer.id, active: offer.active, shows: offer.shows, redemptions: offer.redemptions });
        bandit.allActive = null;
        bandit.index.set(offer.id, a);
      }
    });
    return bandit;
  }
}

function isRecord(c: BanditContext): c is Record<string, unknown> {
  return !ArrayBuffer.isView(c) && !Array.isArray(c);
}

function checkOfferOptions(o: OfferOptions, offerDims: number): OfferOptions {
  const out: OfferOptions = {};
  if (offerDims > 0 || o.features !== undefined) {
    if (!Array.isArray(o.features) || o.features.length !== offerDims || !o.features.every(Number.isFinite))
      throw new AffinityError(offerDims > 0 ? `each offer needs features: ${offerDims} finite numbers` : 'offer features are for a hybrid linucb (offerDims > 0)', ErrorCode.DimMismatch);
    out.features = [...o.features];
  }
  if (o.maxRedemptions !== undefined) out.maxRedemptions = intOption(o.maxRedemptions, 'maxRedemptions', 0, Number.MAX_SAFE_INTEGER, 0);
  if (o.maxShows !== undefined) out.maxShows = intOption(o.maxShows, 'maxShows', 0, Number.MAX_SAFE_INTEGER, 0);
  if (o.when !== undefined) {
    if (o.when === null || typeof o.when !== 'object' || Array.isArray(o.when)) throw badInput('when must be { attribute: condition }');
    for (const [name, c] of Object.entries(o.when)) {
      if (c === null || typeof c !== 'object') throw badInput(`when.${name} must be a condition such as { in: [...] } or { gte: 18 }`);
      for (const [op, v] of Object.entries(c)) {
        if (!['eq', 'ne', 'in', 'gte', 'gt', 'lte', 'lt'].includes(op)) throw badInput(`when.${name}: unknown operator ${op}`);
        if (op === 'in' && !Array.isArray(v)) throw badInput(`when.${name}.in must be an array`);
        if (['gte', 'gt', 'lte', 'lt'].includes(op) && !Number.isFinite(v)) throw badInput(`when.${name}.${op} must be a finite number`);
      }
    }
    out.when = JSON.parse(JSON.stringify(o.when)) as Record<string, Condition>;
  }
  return out;
}

/** Every condition holds; a missing attribute fails its condition (an offer for 'DE' is not shown to an unknown country). */
function passes(when: Record<string, Condition>, attributes: Record<string, unknown> | undefined): boolean {
  for (const [name, c] of Object.entries(when)) {
    const v = attributes?.[name];
    if (v === undefined) return false;
    if (c.eq !== undefined && v !== c.eq) return false;
    if (c.ne !== undefined && v === c.ne) return false;
    if (c.in !== undefined && !c.in.includes(v)) return false;
    if (c.gte !== undefined && !(typeof v === 'number' && v >= c.gte)) return false;
    if (c.gt !== undefined && !(typeof v === 'number' && v > c.gt)) return false;
    if (c.lte !== undefined && !(typeof v === 'number' && v <= c.lte)) return false;
    if (c.lt !== undefined && !(typeof v === 'number' && v < c.lt)) return false;
  }
  return true;
}
