// The in-memory analytics models an app may be given (types only, so affinity/server's published types stay small).
import type { PropensityScorer } from '../analytics/churn.js';
import type { CoPurchaseRules } from '../analytics/rules.js';
import type { Segmentation } from '../analytics/segments.js';
import type { ContentRecommender } from '../models/content.js';
import type { HybridRecommender } from '../models/hybrid.js';
import type { RandomForest } from '../analytics/trees.js';
import type { UpliftModel } from '../analytics/uplift.js';

/** In-memory analytics models for buildApp({ analytics }) and the plugin: each is served under its key as its name. */
export interface AnalyticsModels {
  segments?: Segmentation;
  propensity?: PropensityScorer;
  rules?: CoPurchaseRules;
  content?: ContentRecommender;
  hybrid?: HybridRecommender;
  forest?: RandomForest;
  uplift?: UpliftModel;
}

