// What the offers page charts from a policy's decision log: decisions and rewards accumulated over time,
// and off-policy estimates of the policy as it is now on the logged decisions (IPS and SNIPS).
import type { Bandit } from '../analytics/bandit.js';
import { banditLogsOf, offPolicyValue, type OpeResult } from '../analytics/ope.js';
import { meanInterval } from '../analytics/abtest.js';
import type { Id } from '../data/ids.js';
import type { ReadLog } from '../io/decisionlog.js';
import { thin } from './curves.js';

export interface OfferStat {
  offer: Id;
  active: boolean;
  shows: number;
  rewarded: number;
  rewardSum: number;
  /** rewardSum / shows, with a 95% interval (Wilson's while every reward is 0 or 1, normal otherwise). */
  rate: number;
  ci: [number, number];
}

/** One offer's row from its counts. */
export function offerStat(offer: Id, active: boolean, c: { shows: number; rewarded: number; sum: number; squares: number }, binary: boolean): OfferStat {
  return { offer, active, shows: c.shows, rewarded: c.rewarded, rewardSum: c.sum, rate: c.shows > 0 ? c.sum / c.shows : 0, ci: meanInterval(c.shows, c.sum, c.squares, binary) };
}

/** Per-offer shows and rewards counted from a decision log alone (what a server keeps as its counters). */
export function offerStatsOf(log: ReadLog, bandit: Bandit): OfferStat[] {
  const armOf = new Map<string, Id>();
  const counts = new Map<Id, { shows: number; rewarded: number; sum: number; squares: number }>(bandit.arms.map((a) => [a, { shows: 0, rewarded: 0, sum: 0, squares: 0 }]));
  let binary = true;
  for (const rec of log.records) {
    if (rec.t === 'd') {
      armOf.set(rec.id, rec.arm);
      const c = counts.get(rec.arm);
      if (c) c.shows++;
    } else if (rec.t === 'r') {
      const c = counts.get(armOf.get(rec.id) as Id);
      if (!c) continue;
      c.rewarded++;
      c.sum += rec.reward;
      c.squares += rec.reward * rec.reward;
      if (rec.reward !== 0 && rec.reward !== 1) binary = false;
    }
  }
  return bandit.stats().map((s) => offerStat(s.arm, s.active, counts.get(s.arm)!, binary));
}

export interface RewardTimeline {
  /** Epoch milliseconds of each point, with the decisions and the reward summed up to it. */
  at: number[];
  decisions: number[];
  reward: number[];
}

/** Cumulative decisions and rewards in log order (at most 200 points). */
export function rewardTimeline(log: ReadLog): RewardTimeline {
  const at: number[] = [], decisions: number[] = [], reward: number[] = [];
  let d = 0, r = 0;
  for (const rec of log.records) {
    if (rec.t === 'd') d++;
    else if (rec.t === 'r') r += rec.reward;
    else continue;
    at.push(rec.at);
    decisions.push(d);
    reward.push(r);
  }
  const kept = thin({ x: at.map((_, i) => i), y: at }, 200).x;
  return { at: kept.map((i) => at[i]), decisions: kept.map((i) => decisions[i]), reward: kept.map((i) => reward[i]) };
}

/** The policy's value on its own logged decisions, by IPS and SNIPS with bootstrap intervals; none without decisions. */
export async function currentPolicyValue(log: ReadLog, bandit: Bandit): Promise<(OpeResult & { logged: number })[]> {
  if (!log.records.some((r) => r.t === 'd')) return [];
  const logs = banditLogsOf(log, bandit.arms);
  const logged = Array.from(logs.rewards).reduce((a, b) => a + b, 0) / logs.rewards.length;
  const out: (OpeResult & { logged: number })[] = [];
  for (const estimator of ['ips', 'snips'] as const) out.push({ ...(await offPolicyValue(logs, bandit, { arms: bandit.arms.length, estimator, bootstrap: 200, seed: 1 })), logged });
  return out;
}
