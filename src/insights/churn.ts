// What the churn (propensity) page charts: ROC and PR curves and calibration of the held-out check the
// model was trained with, and its feature weights (logistic coefficients or forest importances).
import { AffinityError, ErrorCode } from '../core/errors.js';
import { classificationMetrics, LogisticRegression, type CalibrationBin } from '../analytics/logistic.js';
import type { PropensityScorer } from '../analytics/churn.js';
import { prCurve, rocCurve, thin, type Series } from './curves.js';

export interface ChurnView {
  /** Held-out rows the curves come from (a sample of at most 2,000). */
  rows: number;
  positives: number;
  rocAuc: number;
  prAuc: number;
  roc: Series;
  pr: Series;
  calibration: CalibrationBin[];
  /** Logistic coefficients (on standardized features) or forest importances, largest magnitude first. */
  weights: { feature: string; weight: number }[];
  weightKind: 'coefficient' | 'importance';
}

/** The churn page's data; ERR_AFFINITY_UNSUPPORTED when the model file keeps no held-out check. */
export function churnView(scorer: PropensityScorer): ChurnView {
  const holdout = scorer.metadata?.holdout;
  if (holdout?.kind !== 'binary')
    throw new AffinityError('this propensity model keeps no held-out check (train it with `affinity train --model propensity`, which does)', ErrorCode.Unsupported);
  const { score, label } = holdout;
  const metrics = classificationMetrics(label, score);
  const model = scorer.model;
  const names = scorer.dataset.featureNames;
  const raw = model instanceof LogisticRegression ? model.coefficients : model.featureImportances;
  const weights = Array.from(raw, (weight, d) => ({ feature: names[d] ?? `x${d}`, weight })).sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight));
  return {
    rows: label.length,
    positives: metrics.positives,
    rocAuc: metrics.rocAuc,
    prAuc: metrics.prAuc,
    roc: thin(rocCurve(score, label)),
    pr: thin(prCurve(score, label)),
    calibration: metrics.calibration,
    weights,
    weightKind: model instanceof LogisticRegression ? 'coefficient' : 'importance',
  };
}
