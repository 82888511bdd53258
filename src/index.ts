// Public API of the affinity package.
import { native } from './core/native.js';
import { intOption, oneOf } from './core/options.js';

export { AffinityError, ErrorCode } from './core/errors.js';
export { Interactions } from './data/interactions.js';
export type { BuildOptions, CsrInput, DuplicatePolicy, FileOptions, FromArraysInput, FromIndicesInput } from './data/interactions.js';
export type { Id } from './data/ids.js';
export type { JobOptions } from './core/jobs.js';
export { similarity, SimilarityMatrix, DenseSimilarity } from './models/similarity.js';
export type { Measure, Neighbor, SimilarityOptions, Weighting } from './models/similarity.js';
export { ItemKNN, UserKNN } from './models/knn.js';
export type { KnnOptions } from './models/knn.js';
export { BatchRecommendations, isRecommender, MAX_K } from './models/contract.js';
export type { BatchOptions, History, InteractionModel, Model, Neighbor as ItemNeighbor, NeighborOptions, Recommendation, Recommender, RecommendOptions, TrainingMetadata } from './models/contract.js';
export { readNpy, writeNpy, parseNpy, encodeNpy } from './io/npy.js';
export { ALS } from './models/als.js';
export { BPR } from './models/bpr.js';
export type { BprOptions } from './models/bpr.js';
export { EASE } from './models/ease.js';
export type { EaseOptions, EaseTimings } from './models/ease.js';
export { loadSparkALS } from './models/spark.js';
export type { SparkAlsOptions, SparkModelInfo } from './models/spark.js';
export type { SparkExportOptions } from './io/sparkdir.js';
export { MostPopular } from './models/popular.js';
export { split, kFold, evaluate, aucOf, ALL_METRICS } from './eval/evaluate.js';
export { tune, DEFAULT_SPACES, TUNABLE_MODELS } from './eval/tune.js';
export type { ParamSpace, Params, SearchSpace, Trial, TunableModel, TuneOptions, TuneResult } from './eval/tune.js';
export type { Evaluable, Evaluation, EvaluateOptions, Metric, SplitOptions } from './eval/evaluate.js';
export { describeModel, loadModel, loadRecommender, saveModel, MODEL_KINDS } from './files/models.js';
export type { AnyModel, ModelDescription } from './files/models.js';
export { MODEL_FORMAT_VERSION } from './io/modelfile.js';
export type { LoadOptions } from './io/modelfile.js';
export type { AlsOptions, Explanation, FitOptions } from './models/als.js';

export type SimdLevel = 'scalar' | 'avx2' | 'avx512' | 'neon';

export interface Capabilities {
  /** CPU architecture as the addon sees it: x64, arm64 or other. */
  arch: string;
  /** CPU features relevant to the kernels (sse4.2, avx2, fma, avx512f, neon). */
  features: string[];
  /** SIMD levels this CPU can run, scalar first. */
  simdLevels: SimdLevel[];
  /** The level in use. */
  simd: SimdLevel;
  /** Threads in the compute pool. */
  threads: number;
}

/** What the CPU offers and what Affinity uses. */
export function capabilities(): Capabilities {
  return native.capabilities() as Capabilities;
}

/** Forces a SIMD level (as AFFINITY_SIMD does at load). A level the CPU lacks throws ERR_AFFINITY_SIMD_UNAVAILABLE. */
export function setSimdLevel(level: SimdLevel): void {
  native.setSimdLevel(oneOf(level, 'level', ['scalar', 'avx2', 'avx512', 'neon'] as const, 'scalar'));
}

/** Sizes the compute pool (default: os.availableParallelism()). */
export function setThreads(threads: number): void {
  native.setThreads(intOption(threads, 'threads', 1, 256, 1));
}

// Marketing analytics.
export { Transactions } from './data/transactions.js';
export type { TransactionsInput } from './data/transactions.js';
export type { RowCondition, RowFilter, TransactionColumns, TransactionFileOptions } from './io/transactionfile.js';
export { kmeans, silhouetteScore, KMeans } from './analytics/kmeans.js';
export { BetaGeo, ParetoNBD, GammaGamma, customerLifetimeValue } from './analytics/clv.js';
export type { BetaGeoParams, ParetoNBDParams, GammaGammaParams, Customer, CustomerArrays, ClvOptions, ClvFitReport, LifetimeValueOptions } from './analytics/clv.js';
export { rfmSummary } from './analytics/rfm.js';
export { abTest, sampleSize, wilsonInterval } from './analytics/abtest.js';
export type { AbTestOptions, AbTestResult, ArmComparison, ArmSummary, Group, SampleSizeOptions } from './analytics/abtest.js';
export { LifetimeValueModel } from './analytics/lifetime.js';
export type { LifetimeValueModelOptions, CustomerValue } from './analytics/lifetime.js';
export type { RfmOptions, RfmSummary } from './analytics/rfm.js';
export type { KMeansOptions, SilhouetteOptions } from './analytics/kmeans.js';
export type { Matrix } from './data/matrix.js';
export { segmentCustomers, Segmentation } from './analytics/segments.js';
export type { KDiagnostic, SegmentOptions, SegmentProfile, SegmentSpace } from './analytics/segments.js';
export { LogisticRegression, classificationMetrics } from './analytics/logistic.js';
export { DecisionTree, RandomForest } from './analytics/trees.js';
export type { ForestOptions, Label, PermutationImportance, TreeFitOptions, TreeInput, TreeOptions } from './analytics/trees.js';
export type { TreeLeaf, TreeNode, TreeSplit } from './analytics/treeview.js';
export { FeatureTable, encodeRecords, MAX_CATEGORIES } from './data/featuretable.js';
export type { Cell, ColumnKind, FeatureColumn, FeatureSchema, FeatureTableOptions } from './data/featuretable.js';
export { UpliftModel, targetingPlan } from './analytics/uplift.js';
export type { TargetingOptions, TargetingPlan, UpliftArmReport, UpliftColumns, UpliftMethod, UpliftOptions, UpliftPrediction } from './analytics/uplift.js';
export { area, perfectQiniCurve, perfectUpliftCurve, qiniAucScore, qiniCurve, upliftAtK, upliftAucScore, upliftCurve } from './analytics/upliftmetrics.js';
export type { Curve } from './analytics/upliftmetrics.js';
export { Bandit, BANDIT_POLICIES } from './analytics/bandit.js';
export type { BanditContext, BanditDecision, BanditOptions, BanditPolicyName, Condition as OfferCondition, DecideOptions, OfferOptions, OfferSpec, OfferStats } from './analytics/bandit.js';
export { TabularAgent, valueIteration } from './analytics/qlearning.js';
export type { Environment, MarkovModel, PolicyRow, Schedule, TabularOptions, TrainOptions } from './analytics/qlearning.js';
export { CouponSimulator } from './analytics/simulate.js';
export type { CouponSimulatorOptions, SimulatedCustomer } from './analytics/simulate.js';
export { banditLogsOf, offPolicyValue } from './analytics/ope.js';
export { DecisionLog, readDecisionLog } from './io/decisionlog.js';
export type { DecisionRecord, LogRecord, ReadLog, RewardRecord } from './io/decisionlog.js';
export type { BanditLogs, LogContexts, OpeEstimator, OpeOptions, OpeResult, TargetPolicy } from './analytics/ope.js';
export { fitRewardModel } from './analytics/rewardmodel.js';
export type { RewardModelOptions } from './analytics/rewardmodel.js';
export type { Attribution, CalibrationBin, ClassificationMetrics, ConvergenceReport, Features, LogisticFitOptions, LogisticOptions, SparseFeatures } from './analytics/logistic.js';
export { churnDataset, PropensityScorer } from './analytics/churn.js';
export type { ChurnOptions, CustomerDataset, FeatureRecipe, PropensityResult, PurchaseLine } from './analytics/churn.js';
export { tokenize, ContentRecommender } from './models/content.js';
export type { CatalogItem, ContentOptions, TokenizeOptions } from './models/content.js';
export { HybridRecommender } from './models/hybrid.js';
export type { HybridOptions } from './models/hybrid.js';
export { coPurchaseRules, CoPurchaseRules } from './analytics/rules.js';
export type { AlsoBought, Rule, RuleOptions } from './analytics/rules.js';

// The product catalogue and its filters.
export { Catalog } from './data/catalog.js';
export type { AttributeValue, CatalogColumns, CatalogFileOptions, CatalogInput } from './data/catalog.js';
export { ItemFilter, FILTER_LIMITS } from './data/filter.js';
export type { Condition, FilterSpec, Literal } from './data/filter.js';

// The events store: what customers did, in SQLite or PostgreSQL.
export { EventStore, parseStoreSpec } from './events/store.js';
export type { AppendResult, ForgetReceipt, StoreOptions } from './events/store.js';
export { EVENT_TYPES, EVENT_WEIGHTS, MAX_BATCH, strengthOf } from './events/event.js';
export type { EventInput, StoredEvent } from './events/event.js';
