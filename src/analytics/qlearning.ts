// Sequences of contacts: tabular Q-learning and SARSA with epsilon-greedy exploration and schedules
// for the learning rate and epsilon, plus value iteration for a known model (the optimum a learned
// policy is checked against). The table is small (states x actions): it lives in TypeScript.
import { AffinityError, ErrorCode, badInput } from '../core/errors.js';
import { intOption, numberOption, oneOf } from '../core/options.js';
import { Random } from '../core/random.js';
import type { JobOptions } from '../core/jobs.js';
import type { ModelFile, ModelParts } from '../io/modelfile.js';
import { trainingMetadata, type TrainingMetadata } from '../models/contract.js';
import { finite64, fromFile, optionsOf, saveParts } from '../models/parts.js';

/**
 * An episodic environment with integer states and actions. `done` ends in a terminal state (nothing
 * follows); `truncated` only stops the episode (a time limit: the agent still bootstraps on the next state).
 */
export interface Environment {
  states: number;
  actions: number;
  reset(): number;
  step(action: number): { state: number; reward: number; done: boolean; truncated?: boolean };
}

/** A known MDP with deterministic transitions: expected reward and next state per (state, action), row-major. */
export interface MarkovModel {
  states: number;
  actions: number;
  reward: Float64Array;
  next: Int32Array;
}

/**
 * A value that changes as learning goes on: a constant, an exponential decay from start to end with a
 * half-life in episodes, or (learning rate only) 'visits': 1 / n(s, a)^0.7, which makes Q-learning converge.
 */
export type Schedule = number | { start: number; end: number; halfLife: number } | 'visits';

export interface TabularOptions {
  method?: 'q-learning' | 'sarsa';
  states: number;
  actions: number;
  /** Default 'visits'. */
  learningRate?: Schedule;
  /** Default { start: 1, end: 0.05, halfLife: 200 }. */
  epsilon?: Schedule;
  /** Default 0.9. */
  discount?: number;
  seed?: number;
}

export interface TrainOptions extends Pick<JobOptions, 'signal' | 'onProgress'> {
  episodes: number;
  /** Called after each episode with its index and total reward. */
  onEpisode?: (episode: number, reward: number) => void;
}

export interface PolicyRow {
  state: number;
  label: string;
  action: string;
  /** The learned value of each action in this state. */
  values: Record<string, number>;
  visits: number;
}

function checkSchedule(s: Schedule | undefined, name: string, fallback: Schedule, visitsAllowed: boolean): Schedule {
  if (s === undefined) return fallback;
  if (s === 'visits' && visitsAllowed) return s;
  if (typeof s === 'number') return numberOption(s, name, 0, 0);
  if (s !== null && typeof s === 'object') {
    const start = numberOption(s.start, `${name}.start`, NaN, 0);
    const end = numberOption(s.end, `${name}.end`, NaN, 0);
    const halfLife = numberOption(s.halfLife, `${name}.halfLife`, NaN, Number.MIN_VALUE);
    if ([start, end, halfLife].some(Number.isNaN)) throw badInput(`${name} needs start, end and halfLife`);
    return { start, end, halfLife };
  }
  throw badInput(`${name} must be a number, { start, end, halfLife }${visitsAllowed ? " or 'visits'" : ''}`);
}

function valueAt(s: Schedule, episode: number, visits: number): number {
  if (s === 'visits') return 1 / Math.max(1, visits) ** 0.7;
  if (typeof s === 'number') return s;
  return s.end + (s.start - s.end) * 0.5 ** (episode / s.halfLife);
}

/**
 * ```ts
 * const sim = new CouponSimulator({ seed: 3 });
 * const agent = new TabularAgent({ method: 'q-learning', states: sim.states, actions: sim.offers.length, seed: 3 });
 * await agent.train(sim.environment(10), { episodes: 20_000 });
 * console.table(agent.table((s) => sim.stateLabel(s), sim.offers));
 * ```
 */
export class TabularAgent {
  static readonly kind = 'q-table';
  readonly kind = TabularAgent.kind;
  metadata?: TrainingMetadata;
  readonly q: Float64Array;
  readonly visits: Float64Array;
  episodes = 0;
  private readonly o: { method: 'q-learning' | 'sarsa'; states: number; actions: number; learningRate: Schedule; epsilon: Schedule; discount: number; seed: number };
  private readonly random: Random;

  constructor(options: TabularOptions) {
    if (options === null || typeof options !== 'object') throw badInput('options must be an object');
    const states = intOption(options.states, 'states', 1, 10_000_000, 0);
    const actions = intOption(options.actions, 'actions', 1, 10_000, 0);
    if (states * actions > 50_000_000) throw new AffinityError('states x actions must be at most 50,000,000', ErrorCode.TooLarge);
    this.o = {
      method: oneOf(options.method, 'method', ['q-learning', 'sarsa'], 'q-learning'),
      states,
      actions,
      learningRate: checkSchedule(options.learningRate, 'learningRate', 'visits', true),
      epsilon: checkSchedule(options.epsilon, 'epsilon', { start: 1, end: 0.05, halfLife: 200 }, false),
      discount: numberOption(options.discount, 'discount', 0.9, 0),
      seed: intOption(options.seed, 'seed', 0, 0xffffffff, 42),
    };
    if (this.o.discount > 1) throw badInput('discount must be in [0, 1]');
    this.q = new Float64Array(states * actions);
    this.visits = new Float64Array(states * actions);
    this.random = new Random(this.o.seed);
  }

  get fitted(): boolean {
    return this.episodes > 0;
  }

  get method(): 'q-learning' | 'sarsa' {
    return this.o.method;
  }

  /** The action with the highest value (ties: the lowest index). */
  greedy(state: number): number {
    this.checkState(state);
    const row = state * this.o.actions;
    let best = 0;
    for (let a = 1; a < this.o.actions; a++) if (this.q[row + a] > this.q[row + best]) best = a;
    return best;
  }

  /** Epsilon-greedy at the current episode's epsilon. */
  act(state: number): number {
    const epsilon = Math.min(1, valueAt(this.o.epsilon, this.episodes, 0));
    return this.random.next() < epsilon ? this.random.int(this.o.actions) : this.greedy(state);
  }

  /**
   * One update. Q-learning bootstraps on the best next action, SARSA on the one it will take (nextAction).
   */
  learn(state: number, action: number, reward: number, next: number, done: boolean, nextAction?: number): void {
    this.checkState(state);
    this.checkState(next);
    if (!Number.isInteger(action) || action < 0 || action >= this.o.actions) throw badInput(`action ${action} is outside [0, ${this.o.actions})`);
    if (!Number.isFinite(reward)) throw badInput('reward must be a finite number');
    const i = state * this.o.actions + action;
    let future = 0;
    if (!done) {
      const row = next * this.o.actions;
      if (this.o.method === 'sarsa') {
        if (nextAction === undefined || !Number.isInteger(nextAction) || nextAction < 0 || nextAction >= this.o.actions) throw badInput('sarsa needs the next action');
        future = this.q[row + nextAction];
      } else future = this.q[row + this.greedy(next)];
    }
    this.visits[i]++;
    const rate = Math.min(1, valueAt(this.o.learningRate, this.episodes, this.visits[i]));
    this.q[i] += rate * (reward + this.o.discount * future - this.q[i]);
  }

  /** Runs episodes against an environment, yielding to the event loop between batches. Returns each episode's total reward. */
  async train(env: Environment, options: TrainOptions): Promise<Float64Array> {
    if (env === null || typeof env !== 'object' || typeof env.reset !== 'function' || typeof env.step !== 'function') throw badInput('env must be { states, actions, reset(), step(action) }');
    if (env.states !== this.o.states || env.actions !== this.o.actions) throw new AffinityError(`the environment has ${env.states} states and ${env.actions} actions, the agent ${this.o.states} and ${this.o.actions}`, ErrorCode.DimMismatch);
    const episodes = intOption(options?.episodes, 'episodes', 1, 100_000_000, 0);
    const returns = new Float64Array(episodes);
    let lastYield = Date.now();
    for (let e = 0; e < episodes; e++) {
      if (options.signal?.aborted) throw new AffinityError('the operation was cancelled', ErrorCode.Cancelled, { cause: options.signal.reason });
      let state = env.reset();
      let action = this.act(state);
      let total = 0;
      for (let guard = 0; ; guard++) {
        if (guard > 10_000_000) throw badInput('an episode ran for more than 10,000,000 steps: does the environment ever end?');
        const { state: next, reward, done, truncated } = env.step(action);
        const nextAction = done ? 0 : this.act(next);
        this.learn(state, action, reward, next, done, nextAction);
        total += reward;
        if (done || truncated) break;
        state = next;
        action = nextAction;
      }
      returns[e] = total;
      this.episodes++;
      options.onEpisode?.(e, total);
      if (Date.now() - lastYield > 20) {
        options.onProgress?.((e + 1) / episodes);
        await new Promise((resolve) => setImmediate(resolve));
        lastYield = Date.now();
      }
    }
    options.onProgress?.(1);
    this.metadata = trainingMetadata({ episodes: this.episodes }, this.o);
    return returns;
  }

  /** The greedy action per state. */
  policy(): Int32Array {
    return Int32Array.from({ length: this.o.states }, (_, s) => this.greedy(s));
  }

  /** The learned policy as rows a person can read (console.table prints it). */
  table(label: (state: number) => string = (s) => `state ${s}`, actionNames?: string[]): PolicyRow[] {
    const names = actionNames ?? Array.from({ length: this.o.actions }, (_, a) => `action ${a}`);
    if (names.length !== this.o.actions) throw new AffinityError(`actionNames must name ${this.o.actions} actions`, ErrorCode.DimMismatch);
    return Array.from({ length: this.o.states }, (_, s) => {
      let visits = 0;
      const values: Record<string, number> = {};
      for (let a = 0; a < this.o.actions; a++) (values[names[a]] = this.q[s * this.o.actions + a]), (visits += this.visits[s * this.o.actions + a]);
      return { state: s, label: label(s), action: names[this.greedy(s)], values, visits };
    });
  }

  async save(path: string): Promise<void> {
    await saveParts(this, path);
  }

  toParts(): ModelParts {
    return { kind: TabularAgent.kind, header: { options: this.o, episodes: this.episodes }, arrays: { q: this.q, visits: this.visits } };
  }

  static async fromParts(file: ModelFile): Promise<TabularAgent> {
    const agent = fromFile(file, () => new TabularAgent(optionsOf(file) as unknown as TabularOptions));
    const n = agent.o.states * agent.o.actions;
    agent.q.set(finite64(file, 'q', n));
    agent.visits.set(finite64(file, 'visits', n));
    const episodes = file.fields.episodes;
    if (!Number.isInteger(episodes) || (episodes as number) < 0) throw file.corrupt('bad episode count');
    agent.episodes = episodes as number;
    return agent;
  }

  private checkState(s: number): void {
    if (!Number.isInteger(s) || s < 0 || s >= this.o.states) throw badInput(`state ${s} is outside [0, ${this.o.states})`);
  }
}

/** The optimal values and policy of a known model (discounted, infinite horizon), by value iteration. */
export function valueIteration(model: MarkovModel, discount = 0.9, tolerance = 1e-10): { values: Float64Array; q: Float64Array; policy: Int32Array } {
  const { states, actions } = model;
  if (model.reward.length !== states * actions || model.next.length !== states * actions) throw new AffinityError('reward and next must be states x actions', ErrorCode.DimMismatch);
  if (!(discount >= 0 && discount < 1)) throw badInput('value iteration needs a discount in [0, 1)');
  const values = new Float64Array(states);
  const q = new Float64Array(states * actions);
  for (let iteration = 0; iteration < 100_000; iteration++) {
    let change = 0;
    for (let s = 0; s < states; s++) {
      let best = -Infinity;
      for (let a = 0; a < actions; a++) {
        const next = model.next[s * actions + a];
        if (!(next >= 0 && next < states)) throw badInput(`next state of (${s}, ${a}) is outside [0, ${states})`);
        q[s * actions + a] = model.reward[s * actions + a] + discount * values[next];
        best = Math.max(best, q[s * actions + a]);
      }
      change = Math.max(change, Math.abs(best - values[s]));
      values[s] = best;
    }
    if (change < tolerance) break;
  }
  const policy = Int32Array.from({ length: states }, (_, s) => {
    let best = 0;
    for (let a = 1; a < actions; a++) if (q[s * actions + a] > q[s * actions + best]) best = a;
    return best;
  });
  return { values, q, policy };
}
