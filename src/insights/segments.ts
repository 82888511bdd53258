// What the segments page charts: sizes and R/F/M profiles with top categories, the customers on the two
// leading principal axes coloured (and shaped) by segment, and inertia and silhouette over the k tried.
import type { KDiagnostic, Segmentation, SegmentProfile } from '../analytics/segments.js';
import type { TrainingMetadata } from '../models/contract.js';

export interface SegmentsView {
  k: number;
  silhouette: number;
  inertia: number;
  profiles: SegmentProfile[];
  diagnostics: KDiagnostic[];
  /** Absent for files written before models kept it. */
  projection?: Omit<NonNullable<TrainingMetadata['projection']>, 'rows'>;
}

export function segmentsView(model: Segmentation): SegmentsView {
  // The points' rows stay in the file: they say whose point is whose, which the page has no need to know.
  const kept = model.metadata?.projection;
  const projection = kept && { x: kept.x, y: kept.y, segment: kept.segment, explained: kept.explained };
  return { k: model.k, silhouette: model.silhouette, inertia: model.inertia, profiles: model.profiles, diagnostics: model.diagnostics, ...(projection ? { projection } : {}) };
}
