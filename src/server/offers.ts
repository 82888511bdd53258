// Offers served with their logs: each policy (a Bandit) decides, every decision and reward goes to its
// durable decision log before it is acknowledged, and a restart resumes from the last snapshot (a bandit
// model file that records how far into the log it has learned) plus the log's tail. A reward is applied
// once: its decision is marked rewarded before the reward is written, a second one is 409, and after a
// crash the log says which rewards were already on disk.
import { mkdir, stat } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Bandit, type BanditContext } from '../analytics/bandit.js';
import { offerStat, type OfferStat } from '../insights/offers.js';
import { AffinityError, ErrorCode, badInput } from '../core/errors.js';
import { intOption } from '../core/options.js';
import { checkId, type Id } from '../data/ids.js';
import { DecisionLog, type DecisionRecord, type LogRecord } from '../io/decisionlog.js';
import { readModelFile, writeModelFile } from '../io/modelfile.js';
import { trainingMetadata, type TrainingMetadata } from '../models/contract.js';
import { partsWithMeta } from '../models/parts.js';
import { loadModel, type AnyModel } from '../files/models.js';

export interface OfferPolicyOptions {
  /** The policy as it starts (its state from the last snapshot replaces it after the first run). A Bandit or a bandit model file. */
  bandit: Bandit | string;
  /** The context of a customer the request gives none for (features from a customer table), or undefined if unknown. */
  contextFor?: (customer: Id) => BanditContext | undefined;
}

export interface OffersOptions {
  /** Where each policy keeps its decision log and snapshots (dir/<policy>/). */
  dir: string;
  policies: Record<string, Bandit | string | OfferPolicyOptions>;
  /** The policy of requests that name none (default: the first). */
  default?: string;
  /** How long a decision can be rewarded (ms, default 7 days). */
  rewardWindowMs?: number;
  /** Rewards between snapshots (default 1000); a snapshot is also written on close. */
  snapshotEvery?: number;
  /** A snapshot compacts the decision log once it is larger than this (bytes, default 64 MiB). */
  compactBytes?: number;
  /**
   * Answer a decision only once it is on disk too (default false: decisions are written with the next
   * group commit and the answer does not wait for it; rewards always wait).
   */
  syncDecisions?: boolean;
}

export interface DecideRequest {
  policy?: string;
  customer: Id;
  context?: number[] | Record<string, number>;
  candidates?: Id[];
  attributes?: Record<string, unknown>;
}

export interface OfferDecision {
  policy: string;
  /** null when no offer is eligible (nothing is logged then). */
  offer: Id | null;
  propensity: number;
  decisionId: string | null;
}

/** What a policy served through this service and heard back, per offer (from its decision log). */
export type { OfferStat } from '../insights/offers.js';

interface Pending {
  policy: Policy;
  arm: Id;
  x: number[];
  at: number;
  customer: Id;
  p: number;
  /** Its reward, once it has one. */
  reward?: number;
}

/** What a snapshot records of its log: the generation, how many bytes of it it has learned, the counters up to there. */
interface LogState {
  generation: number;
  bytes: number;
  counters: [Id, Counter][];
  binary: boolean;
}

function checkLogState(v: unknown, path: string): LogState {
  const s = v as LogState;
  const ok =
    s !== null && typeof s === 'object' && Number.isInteger(s.generation) && s.generation >= 0 && Number.isInteger(s.bytes) && s.bytes >= 0 && typeof s.binary === 'boolean' &&
    Array.isArray(s.counters) && s.counters.every((e) => Array.isArray(e) && e.length === 2 && ['shows', 'rewarded', 'sum', 'squares'].every((k) => Number.isFinite((e[1] as unknown as Record<string, number>)?.[k])));
  if (!ok) throw new AffinityError(`${path} does not say which part of its decision log it holds`, ErrorCode.CorruptFile);
  return s;
}

interface Policy {
  name: string;
  bandit: Bandit;
  log: DecisionLog;
  snapshotPath: string;
  contextFor?: (customer: Id) => BanditContext | undefined;
  rewardsSinceSnapshot: number;
  /** What this service served and heard back per offer, from its whole log (not what the bandit learned elsewhere). */
  counters: Map<Id, Counter>;
  binary: boolean;
  snapshotting: Promise<void> | null;
  generation: number;
}

interface Counter {
  shows: number;
  rewarded: number;
  sum: number;
  squares: number;
}

const DAY = 24 * 3600 * 1000;

export class OfferService {
  private readonly decisions = new Map<string, Pending>();
  /** Told of a decision that could not be written (decide does not wait for its write). */
  onLogError?: (err: Error) => void;
  private constructor(
    private readonly policies: Map<string, Policy>,
    readonly defaultPolicy: string,
    private readonly windowMs: number,
    private readonly snapshotEvery: number,
    private readonly syncDecisions: boolean,
    private readonly compactBytes: number,
  ) {}

  static async open(options: OffersOptions): Promise<OfferService> {
    if (options === null || typeof options !== 'object' || typeof options.dir !== 'string') throw badInput('offers needs { dir, policies }');
    const names = Object.keys(options.policies ?? {});
    if (names.length === 0) throw badInput('offers.policies names no policy');
    const windowMs = intOption(options.rewardWindowMs, 'rewardWindowMs', 1, Number.MAX_SAFE_INTEGER, 7 * DAY);
    const every = intOption(options.snapshotEvery, 'snapshotEvery', 1, Number.MAX_SAFE_INTEGER, 1000);
    const policies = new Map<string, Policy>();
    const compactBytes = intOption(options.compactBytes, 'compactBytes', 0, Number.MAX_SAFE_INTEGER, 64 << 20);
    const service = new OfferService(policies, options.default ?? names[0], windowMs, every, options.syncDecisions === true, compactBytes);
    if (!names.includes(service.defaultPolicy)) throw badInput(`offers.default names no policy: ${service.defaultPolicy}`);
    for (const name of names) {
      if (!/^[A-Za-z0-9_.-]{1,128}$/.test(name) || name.startsWith('.')) throw badInput(`policy name ${JSON.stringify(name)}: letters, digits, _ . - only`);
      const spec = options.policies[name];
      const o: OfferPolicyOptions = spec instanceof Bandit || typeof spec === 'string' ? { bandit: spec } : spec;
      await service.openPolicy(name, join(options.dir, name), o);
    }
    return service;
  }

  private async openPolicy(name: string, dir: string, o: OfferPolicyOptions): Promise<void> {
    await mkdir(dir, { recursive: true });
    const snapshotPath = join(dir, 'snapshot.affinity');
    const hasSnapshot = await stat(snapshotPath).then(() => true, () => false);
    let loaded: AnyModel;
    let state: LogState = { generation: 0, bytes: 0, counters: [], binary: true };
    if (hasSnapshot) {
      const file = await readModelFile(snapshotPath);
      if (file.kind !== Bandit.kind) throw new AffinityError(`${snapshotPath} holds a ${file.kind} model, not a bandit`, ErrorCode.CorruptFile);
      loaded = await Bandit.fromParts(file);
      loaded.metadata = file.meta as unknown as TrainingMetadata | undefined;
      state = checkLogState(file.header.offerLog, snapshotPath);
    } else loaded = typeof o.bandit === 'string' ? await loadModel(o.bandit) : o.bandit;
    if (!(loaded instanceof Bandit)) throw new AffinityError(`policy ${name} is a ${loaded.kind} model, not a bandit`, ErrorCode.Unsupported);
    const { log, existing } = await DecisionLog.open(join(dir, 'decisions.log'), state.generation);
    if (state.bytes > existing.bytes) throw new AffinityError(`${snapshotPath} has learned from ${state.bytes} bytes of a log of ${existing.bytes}: the log was cut`, ErrorCode.CorruptFile);
    const policy: Policy = { name, bandit: loaded, log, snapshotPath, contextFor: o.contextFor, rewardsSinceSnapshot: 0, counters: new Map(state.counters.map(([arm, c]) => [arm, { ...c }])), binary: state.binary, snapshotting: null, generation: state.generation };
    this.policies.set(name, policy);
    const now = Date.now();
    // Records the snapshot already holds only rebuild which decisions are open; the tail after it is
    // counted and replayed into the bandit.
    existing.records.forEach((r, i) => {
      const after = existing.ends[i] > state.bytes;
      if (r.t === 'h') return;
      if (r.t === 'd') {
        if (after) this.count(policy, r.arm), loaded.recordShow(r.arm);
        if (now - r.at <= this.windowMs) this.decisions.set(r.id, { policy, arm: r.arm, x: r.x, at: r.at, customer: r.customer, p: r.p });
        return;
      }
      const d = this.decisions.get(r.id);
      if (!d) return;
      d.reward = r.reward;
      if (after) this.count(policy, d.arm, r.reward), loaded.update(d.arm, r.reward, d.x.length > 0 ? d.x : undefined);
    });
    if (!hasSnapshot) await this.snapshot(policy);
  }

  private policy(name: string | undefined): Policy {
    const p = this.policies.get(name ?? this.defaultPolicy);
    if (!p) throw new AffinityError(`unknown offer policy ${JSON.stringify(name)} (serving ${[...this.policies.keys()].join(', ')})`, ErrorCode.UnknownModel);
    return p;
  }

  /** Chooses an offer and logs the decision (resolving once it is on disk with syncDecisions). */
  async decide(request: DecideRequest): Promise<OfferDecision> {
    const policy = this.policy(request.policy);
    checkId(request.customer, 'customer');
    const context = request.context ?? policy.contextFor?.(request.customer);
    if (context === undefined && policy.bandit.dims > 0) throw badInput(`policy ${policy.name} needs a context (${policy.bandit.featureNames.join(', ')}) and none is known for customer ${JSON.stringify(request.customer)}`);
    const decision = policy.bandit.decide(context, { candidates: request.candidates, attributes: request.attributes });
    if (!decision) return { policy: policy.name, offer: null, propensity: 0, decisionId: null };
    const x = policy.bandit.dims > 0 ? Array.from(policy.bandit.encode(context)!) : [];
    const record: DecisionRecord = { t: 'd', id: randomUUID(), at: Date.now(), customer: request.customer, arm: decision.arm, p: decision.propensity, x };
    this.decisions.set(record.id, { policy, arm: decision.arm, x, at: record.at, customer: request.customer, p: decision.propensity });
    this.count(policy, decision.arm);
    // Queued, not awaited: the decision goes out with the next group commit, and a reward can only be
    // acknowledged after it (the log is written in order). A crash can lose the last few milliseconds of
    // decisions; rewarding one of those is then a 404, never a reward counted without its decision.
    if (this.syncDecisions) await policy.log.append(record);
    else policy.log.append(record).catch((err: Error) => this.onLogError?.(err));
    return { policy: policy.name, offer: decision.arm, propensity: decision.propensity, decisionId: record.id };
  }

  /** Applies a decision's reward and logs it; resolves once it is on disk. Unknown or expired: 404; a second reward: 409. */
  async reward(decisionId: string, reward: number): Promise<{ policy: string; decisionId: string; offer: Id; reward: number }> {
    const d = this.decisions.get(decisionId);
    if (!d || Date.now() - d.at > this.windowMs) throw new AffinityError(`no decision ${JSON.stringify(decisionId)} within the reward window`, ErrorCode.UnknownId);
    if (d.reward !== undefined) throw new AffinityError(`decision ${decisionId} already has its reward`, ErrorCode.Conflict);
    if (typeof reward !== 'number' || !Number.isFinite(reward)) throw badInput('reward must be a finite number');
    const { policy } = d;
    policy.bandit.update(d.arm, reward, d.x.length > 0 ? d.x : undefined); // checks the reward against the policy first
    d.reward = reward;
    this.count(policy, d.arm, reward);
    await policy.log.append({ t: 'r', id: decisionId, at: Date.now(), reward });
    if (++policy.rewardsSinceSnapshot >= this.snapshotEvery && !policy.snapshotting) {
      policy.snapshotting = this.snapshot(policy).finally(() => (policy.snapshotting = null));
      policy.snapshotting.catch(() => {}); // the next snapshot retries; the log keeps every reward meanwhile
    }
    return { policy: policy.name, decisionId, offer: d.arm, reward };
  }

  /** Counts a show, or (with a reward) a reward. */
  private count(policy: Policy, arm: Id, reward?: number): void {
    let c = policy.counters.get(arm);
    if (!c) policy.counters.set(arm, (c = { shows: 0, rewarded: 0, sum: 0, squares: 0 }));
    if (reward === undefined) return void c.shows++;
    c.rewarded++;
    c.sum += reward;
    c.squares += reward * reward;
    if (reward !== 0 && reward !== 1) policy.binary = false;
  }

  /**
   * Writes the policy's state with how far into its log it has learned (atomically), and forgets expired
   * decisions. Past compactBytes the log is rotated: its successor holds only the decisions of the reward
   * window (those rewarded without their context, so that a second reward is still refused), and the
   * snapshot names the new generation.
   */
  private async snapshot(policy: Policy): Promise<void> {
    // Rewards reach the bandit just before their record is queued: once nothing is queued or being
    // written, everything the bandit has learned is in the first log.bytes bytes. From here to the
    // capture of its parts nothing else runs.
    while (!policy.log.idle) await policy.log.drain();
    const now = Date.now();
    for (const [id, d] of this.decisions) if (now - d.at > this.windowMs) this.decisions.delete(id);
    const compact = policy.log.bytes > this.compactBytes;
    if (compact) policy.log.pause();
    policy.rewardsSinceSnapshot = 0;
    const stats = policy.bandit.stats();
    policy.bandit.metadata = trainingMetadata({ shows: stats.reduce((s, o) => s + o.shows, 0), rewards: stats.reduce((s, o) => s + o.rewarded, 0) }, { policy: policy.bandit.policy });
    const parts = partsWithMeta(policy.bandit);
    const state = (generation: number, bytes: number): LogState => ({ generation, bytes, counters: [...policy.counters].map(([arm, c]) => [arm, { ...c }]), binary: policy.binary });
    const write = (s: LogState) => writeModelFile(policy.snapshotPath, { ...parts, header: { ...parts.header, offerLog: s } });
    if (!compact) return write(state(policy.generation, policy.log.bytes));
    const carried: LogRecord[] = [];
    for (const [id, d] of this.decisions) {
      if (d.policy !== policy) continue;
      // A rewarded decision is kept only to refuse a second reward: its context has done its work.
      carried.push({ t: 'd', id, at: d.at, customer: d.customer, arm: d.arm, p: d.p, x: d.reward === undefined ? d.x : [] });
      if (d.reward !== undefined) carried.push({ t: 'r', id, at: d.at, reward: d.reward });
    }
    const generation = policy.generation + 1;
    const counted = state(generation, 0);
    await policy.log.rotate(generation, carried, (bytes) => write({ ...counted, bytes }));
    policy.generation = generation;
  }

  stats(name?: string): { policy: string; offers: OfferStat[] } {
    const policy = this.policy(name);
    return {
      policy: policy.name,
      offers: policy.bandit.stats().map((s) => {
        return offerStat(s.arm, s.active, policy.counters.get(s.arm) ?? { shows: 0, rewarded: 0, sum: 0, squares: 0 }, policy.binary);
      }),
    };
  }

  get names(): string[] {
    return [...this.policies.keys()];
  }

  bandit(name?: string): Bandit {
    return this.policy(name).bandit;
  }

  /** Where a policy's decision log is (to read it back: charts, off-policy evaluation). */
  logPath(name?: string): string {
    return this.policy(name).log.path;
  }

  /**
   * What the policy would choose for a customer now, without deciding: each eligible offer's chance of
   * being chosen (a fixed seed, so the same state answers the same) and, for linear policies, its estimated
   * reward. Nothing is logged or counted, so looking at a customer never trains the policy.
   */
  preview(customer: Id, name?: string): { policy: string; offers: { offer: Id; probability: number; estimate?: number }[] } {
    const policy = this.policy(name);
    checkId(customer, 'customer');
    const context = policy.contextFor?.(customer);
    if (context === undefined && policy.bandit.dims > 0) throw new AffinityError(`policy ${policy.name} knows no context for customer ${JSON.stringify(customer)}`, ErrorCode.UnknownId);
    const p = policy.bandit.probabilities(context, { seed: 1 });
    const linear = policy.bandit.dims > 0;
    const offers = policy.bandit.arms.map((offer, a) => ({ offer, probability: p[a], ...(linear ? { estimate: policy.bandit.estimate(offer, context!).mean } : {}) }));
    return { policy: policy.name, offers: offers.filter((o) => o.probability > 0).sort((a, b) => b.probability - a.probability) };
  }

  async close(): Promise<void> {
    for (const p of this.policies.values()) {
      await p.snapshotting?.catch(() => {});
      await this.snapshot(p);
      await p.log.close();
    }
  }
}

