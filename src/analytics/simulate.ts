// A seeded customer simulator for offers: customers of a few segments answer each offer with a
// segment-specific probability that fades with recent contacts (fatigue). It is what the bandit and
// Q-learning tests, benches and demos learn against, because its best decisions are known exactly.
import { badInput, AffinityError, ErrorCode } from '../core/errors.js';
import { intOption, numberOption } from '../core/options.js';
import { Random } from '../core/random.js';
import type { Environment, MarkovModel } from './qlearning.js';

export interface CouponSimulatorOptions {
  seed?: number;
  /** Offer names; the first is "no offer" (default ['none', '5off', '10off', 'freeship']). */
  offers?: string[];
  segments?: number;
  /** Probability of a purchase per segment and offer (segments x offers); default: drawn from the seed. */
  response?: number[][];
  /** Value of a purchase per offer, net of the coupon's cost (default 1 each). */
  margin?: number[];
  /** Each recent contact multiplies the response by (1 - fatigue) (default 0.3). */
  fatigue?: number;
  /** Recent contacts remembered, at most (default 3); each step without an offer forgets one. */
  memory?: number;
  /** Context features beyond the bias and the segment one-hot: noise the policy must learn to ignore (default 2). */
  noiseFeatures?: number;
}

export interface SimulatedCustomer {
  segment: number;
  /** Recent contacts (0..memory). */
  recent: number;
  /** [1, one-hot segment, noise...]: what a contextual policy sees. */
  context: Float64Array;
}

export class CouponSimulator {
  readonly offers: string[];
  readonly segments: number;
  readonly dims: number;
  readonly memory: number;
  readonly response: number[][];
  readonly margin: number[];
  readonly fatigue: number;
  private readonly noise: number;
  private readonly random: Random;

  constructor(options: CouponSimulatorOptions = {}) {
    this.random = new Random(intOption(options.seed, 'seed', 0, 0xffffffff, 1));
    this.offers = options.offers ?? ['none', '5off', '10off', 'freeship'];
    if (!Array.isArray(this.offers) || this.offers.length < 2) throw badInput('offers must name at least two offers (the first: no offer)');
    this.segments = intOption(options.segments, 'segments', 1, 1000, 4);
    this.fatigue = numberOption(options.fatigue, 'fatigue', 0.3, 0);
    if (this.fatigue >= 1) throw badInput('fatigue must be in [0, 1)');
    this.memory = intOption(options.memory, 'memory', 0, 100, 3);
    this.noise = intOption(options.noiseFeatures, 'noiseFeatures', 0, 1000, 2);
    this.dims = 1 + this.segments + this.noise;
    const k = this.offers.length;
    this.response =
      options.response ??
      Array.from({ length: this.segments }, () => Array.from({ length: k }, (_, a) => (a === 0 ? 0.02 + 0.03 * this.random.next() : 0.04 + 0.26 * this.random.next())));
    if (this.response.length !== this.segments || this.response.some((r) => r.length !== k || r.some((p) => !(p >= 0 && p <= 1))))
      throw new AffinityError(`response must be segments x offers (${this.segments} x ${k}) probabilities`, ErrorCode.DimMismatch);
    this.margin = options.margin ?? new Array<number>(k).fill(1);
    if (this.margin.length !== k || !this.margin.every(Number.isFinite)) throw new AffinityError(`margin must hold ${k} finite numbers`, ErrorCode.DimMismatch);
  }

  /** A customer arriving now (fresh: no recent contacts unless given). */
  customer(recent = 0): SimulatedCustomer {
    const segment = this.random.int(this.segments);
    const context = new Float64Array(this.dims);
    context[0] = 1;
    context[1 + segment] = 1;
    for (let j = 0; j < this.noise; j++) context[1 + this.segments + j] = this.random.normal();
    return { segment, recent, context };
  }

  /** Probability of a purchase if this customer gets this offer now. */
  purchaseProbability(c: SimulatedCustomer, offer: number): number {
    return this.response[c.segment][offer] * (1 - this.fatigue) ** c.recent;
  }

  expectedReward(c: SimulatedCustomer, offer: number): number {
    return this.purchaseProbability(c, offer) * this.margin[offer];
  }

  /** The offer with the highest expected reward now (what a one-step policy should learn). */
  bestOffer(c: SimulatedCustomer): number {
    let best = 0;
    for (let a = 1; a < this.offers.length; a++) if (this.expectedReward(c, a) > this.expectedReward(c, best)) best = a;
    return best;
  }

  /** Shows the offer: returns the reward (margin on a purchase, else 0) and updates the customer's fatigue. */
  respond(c: SimulatedCustomer, offer: number): number {
    if (!Number.isInteger(offer) || offer < 0 || offer >= this.offers.length) throw badInput(`offer ${offer} is not one of ${this.offers.length}`);
    const reward = this.random.next() < this.purchaseProbability(c, offer) ? this.margin[offer] : 0;
    c.recent = offer === 0 ? Math.max(0, c.recent - 1) : Math.min(this.memory, c.recent + 1);
    return reward;
  }

  /** States of the contact sequence: segment x recent contacts. */
  get states(): number {
    return this.segments * (this.memory + 1);
  }

  stateOf(c: SimulatedCustomer): number {
    return c.segment * (this.memory + 1) + c.recent;
  }

  stateLabel(state: number): string {
    const recent = state % (this.memory + 1);
    return `segment ${Math.floor(state / (this.memory + 1))}, ${recent} recent contact${recent === 1 ? '' : 's'}`;
  }

  /**
   * A customer's sequence of contacts as an environment for Q-learning and SARSA. Episodes stop after
   * `horizon` contacts without ending in a terminal state, so what is learned is the discounted
   * infinite-horizon value that model() and valueIteration describe.
   */
  environment(horizon = 10): Environment {
    intOption(horizon, 'horizon', 1, 1_000_000, 10);
    let c = this.customer();
    let t = 0;
    return {
      states: this.states,
      actions: this.offers.length,
      reset: () => {
        c = this.customer();
        t = 0;
        return this.stateOf(c);
      },
      step: (action) => {
        const reward = this.respond(c, action);
        t++;
        return { state: this.stateOf(c), reward, done: false, truncated: t >= horizon };
      },
    };
  }

  /** The exact model of that environment (expected rewards and the deterministic transitions), for value iteration. */
  model(): MarkovModel {
    const k = this.offers.length;
    const reward = new Float64Array(this.states * k);
    const next = new Int32Array(this.states * k);
    for (let s = 0; s < this.states; s++) {
      const c: SimulatedCustomer = { segment: Math.floor(s / (this.memory + 1)), recent: s % (this.memory + 1), context: new Float64Array(0) };
      for (let a = 0; a < k; a++) {
        reward[s * k + a] = this.expectedReward(c, a);
        const recent = a === 0 ? Math.max(0, c.recent - 1) : Math.min(this.memory, c.recent + 1);
        next[s * k + a] = c.segment * (this.memory + 1) + recent;
      }
    }
    return { states: this.states, actions: k, reward, next };
  }
}
