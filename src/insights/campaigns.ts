// What the campaigns page charts, from the held-out rows an uplift model was checked on: each arm's
// outcome rate with its 95% interval, its lift over the control, and its Qini curve.
import { AffinityError, ErrorCode } from '../core/errors.js';
import { qiniAucScore, qiniCurve, upliftAucScore, upliftCurve } from '../analytics/upliftmetrics.js';
import type { UpliftModel } from '../analytics/uplift.js';
import { rateWithInterval, thin, type Series } from './curves.js';

export interface CampaignView {
  control: string;
  /** The control first, then each treatment arm. */
  arms: { arm: string; rows: number; rate: number; ci: [number, number]; lift: number }[];
  /**
   * Per treatment arm (against the control), customers ranked by predicted uplift: the Qini curve
   * (incremental outcomes among the first x) and coefficient, and the uplift curve ((treated rate −
   * control rate) among the first x, times x) and its area (AUUC).
   */
  qini: { arm: string; coefficient: number; curve: Series; upliftArea: number; uplift: Series }[];
}

export function campaignView(model: UpliftModel): CampaignView {
  const holdout = model.metadata?.holdout;
  if (holdout?.kind !== 'uplift') throw new AffinityError('this uplift model keeps no held-out check (train it with `affinity train --model uplift`, which does)', ErrorCode.Unsupported);
  const { control, arm, outcome, uplift } = holdout;
  const outcomesOf = (a: string) => outcome.filter((_, i) => arm[i] === a);
  const base = rateWithInterval(outcomesOf(control));
  const treatments = Object.keys(uplift);
  const arms = [control, ...treatments].map((a) => {
    const r = a === control ? base : rateWithInterval(outcomesOf(a));
    return { arm: a, rows: r.n, rate: r.rate, ci: r.ci, lift: r.rate - base.rate };
  });
  const qini = treatments.flatMap((a) => {
    const rows = arm.flatMap((x, i) => (x === a || x === control ? [i] : []));
    const y = rows.map((i) => outcome[i]), u = rows.map((i) => uplift[a][i]), t = rows.map((i) => (arm[i] === a ? 1 : 0));
    if (!t.includes(1) || !t.includes(0)) return [];
    const c = qiniCurve(y, u, t), g = upliftCurve(y, u, t);
    return [{ arm: a, coefficient: qiniAucScore(y, u, t), curve: thin({ x: Array.from(c.x), y: Array.from(c.y) }), upliftArea: upliftAucScore(y, u, t), uplift: thin({ x: Array.from(g.x), y: Array.from(g.y) }) }];
  });
  return { control, arms, qini };
}
