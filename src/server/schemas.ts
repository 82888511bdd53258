// Request and response schemas (TypeBox). Unknown fields are rejected, sizes are capped.
//
// Replies are serialized through their schemas (fast-json-stringify drops what a schema does not name), so
// a field added to a domain type would vanish from responses. Each reply schema is therefore tied to the
// domain type it carries: `Same<Static<schema>, DomainType>` below fails to compile when the two differ.
import { Type, type Static } from 'typebox';
import type { Recommendation, Neighbor, TrainingMetadata } from '../models/contract.js';
import type { Attributes } from '../data/catalog.js';
import { FILTER_LIMITS } from '../data/filter.js';
import { LIMITS } from './limits.js';
import type { AlsoBought } from '../analytics/rules.js';
import type { PropensityResult } from '../analytics/churn.js';
import type { SegmentProfile } from '../analytics/segments.js';
import type { CustomerValue } from '../analytics/lifetime.js';
import type { OfferStat } from './offers.js';
import { MAX_BATCH, type StoredEvent } from '../events/event.js';
import type { ForgetReceipt } from '../events/store.js';

/** A domain answer with the catalogue attributes a request may add. */
type Attributed<T> = Flat<T & { attributes?: Attributes }>;
type Flat<T> = { [K in keyof T]: T[K] };

/** Request caps (limits.ts). Ids follow the engine's one id rule (data/ids.ts), so every id a model holds can be asked about and answered. */
export { LIMITS };

export const Id = Type.Union([Type.String({ minLength: 1, maxLength: LIMITS.idLength }), Type.Number()], { description: 'A user or item id' });
const IdList = Type.Array(Id, { maxItems: LIMITS.listItems });
const K = Type.Integer({ minimum: 1, maximum: LIMITS.k, default: 10 });
/** A visitor's interaction weight: the same bounds on every route that takes a history. */
const Value = Type.Number({ minimum: 0, maximum: LIMITS.value, description: 'Interaction weight (count, rating, confidence)' });
const ModelName = Type.String({ minLength: 1, maxLength: 128, description: 'Model name (default: the first model)' });

export const ErrorResponse = Type.Object({
  statusCode: Type.Integer(),
  code: Type.String(),
  error: Type.String(),
  message: Type.String(),
});

/** An item's catalogue attributes, when the request asked for fields (absent when the catalogue lacks the item). */
const AttributeValue = Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null(), Type.Array(Type.String())]);
const AttributesSchema = Type.Record(Type.String(), AttributeValue);
const WithAttributes = { attributes: Type.Optional(AttributesSchema) };

export const Item = Type.Object({ item: Id, score: Type.Number(), ...WithAttributes });
export const NeighborSchema = Type.Object({ id: Id, score: Type.Number(), ...WithAttributes });

/** Catalogue filters and returned attributes, on every route that answers items. */
const Literal = Type.Union([Type.String({ maxLength: LIMITS.idLength }), Type.Number(), Type.Boolean()]);
const LiteralList = Type.Array(Literal, { maxItems: FILTER_LIMITS.values });
const Condition = Type.Object(
  { eq: Type.Optional(Literal), in: Type.Optional(LiteralList), notIn: Type.Optional(LiteralList), lt: Type.Optional(Type.Number()), lte: Type.Optional(Type.Number()), gt: Type.Optional(Type.Number()), gte: Type.Optional(Type.Number()) },
  { additionalProperties: false, minProperties: 1 },
);
const Filter = Type.Record(Type.String({ minLength: 1, maxLength: 128 }), Type.Union([Literal, LiteralList, Condition]), {
  maxProperties: FILTER_LIMITS.attributes,
  description: "Catalogue conditions, all of which an item must meet: { category: { in: ['tea'] }, price: { lte: 20 }, inStock: true }",
});
const Fields = Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 64, description: 'Catalogue attributes to return with each item' });
const ItemQuery = { filter: Type.Optional(Filter), fields: Type.Optional(Fields) };
const Served = { model: Type.String(), version: Type.Integer() };

export const RecommendBody = Type.Object(
  {
    model: Type.Optional(ModelName),
    ...ItemQuery,
    user: Id,
    k: Type.Optional(K),
    filterSeen: Type.Optional(Type.Boolean({ default: true })),
    exclude: Type.Optional(IdList),
    include: Type.Optional(IdList),
    fallback: Type.Optional(Type.Union([Type.Literal('none'), Type.Literal('popular')], { default: 'none' })),
    fresh: Type.Optional(Type.Boolean({ default: true, description: "Fold in the user's events since the model was trained (servers with an events store)" })),
  },
  { additionalProperties: false },
);
export const RecommendReply = Type.Object({
  ...Served,
  user: Id,
  fallback: Type.Boolean(),
  fresh: Type.Optional(Type.Integer({ description: 'Events since training folded into this answer' })),
  items: Type.Array(Item),
});

export const BatchBody = Type.Object(
  { model: Type.Optional(ModelName), users: Type.Array(Id, { minItems: 1, maxItems: LIMITS.batchUsers }), k: Type.Optional(K), ...ItemQuery },
  { additionalProperties: false },
);
/** The ids of a list request the model does not know: the answer covers the others (lists never fail on one unknown id). */
const Unknown = Type.Array(Id, { description: 'Ids of the request the model does not know, left out of the results' });
export const BatchReply = Type.Object({ ...Served, results: Type.Array(Type.Object({ user: Id, items: Type.Array(Item) })), unknown: Unknown });

export const AnonymousBody = Type.Object(
  {
    model: Type.Optional(ModelName),
    ...ItemQuery,
    items: Type.Array(Id, { minItems: 1, maxItems: LIMITS.listItems }),
    values: Type.Optional(Type.Array(Value, { maxItems: LIMITS.listItems })),
    k: Type.Optional(K),
    exclude: Type.Optional(IdList),
  },
  { additionalProperties: false },
);
export const AnonymousReply = Type.Object({ ...Served, items: Type.Array(Item) });

export const ScoreBody = Type.Object(
  { model: Type.Optional(ModelName), user: Id, items: Type.Array(Id, { minItems: 1, maxItems: LIMITS.listItems }) },
  { additionalProperties: false },
);
export const ScoreReply = Type.Object({ ...Served, user: Id, scores: Type.Array(Item), unknown: Unknown });

export const SimilarItemsBody = Type.Object({ model: Type.Optional(ModelName), item: Id, k: Type.Optional(K), ...ItemQuery }, { additionalProperties: false });
export const SimilarUsersBody = Type.Object({ model: Type.Optional(ModelName), user: Id, k: Type.Optional(K) }, { additionalProperties: false });
export const SimilarReply = Type.Object({ ...Served, neighbors: Type.Array(NeighborSchema) });

export const TrainingMetadataSchema = Type.Object({
  trainedAt: Type.String(),
  library: Type.String(),
  data: Type.Record(Type.String(), Type.Number()),
  options: Type.Record(Type.String(), Type.Unknown()),
  input: Type.Optional(Type.Object({ file: Type.String(), bytes: Type.Number(), sha256: Type.String() })),
  quality: Type.Optional(Type.Record(Type.String(), Type.Number())),
  source: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  curves: Type.Optional(Type.Record(Type.String(), Type.Array(Type.Number()))),
});
export const ModelInfo = Type.Object({
  name: Type.String(),
  kind: Type.String(),
  version: Type.Integer(),
  /** Users / customers and items the model knows, where it has them. */
  users: Type.Optional(Type.Integer()),
  items: Type.Optional(Type.Integer()),
  loadedAt: Type.String(),
  reloadable: Type.Boolean(),
  metadata: Type.Optional(TrainingMetadataSchema),
});
export const CatalogInfo = Type.Object({ version: Type.Integer(), products: Type.Integer(), attributes: Type.Array(Type.String()), loadedAt: Type.String(), reloadable: Type.Boolean() });
/** The events store a server writes to, and the trainings from it (newest last). */
export const StoreInfo = Type.Object({
  kind: Type.String(),
  location: Type.String(),
  lastSeq: Type.Integer(),
  freshEvents: Type.Optional(Type.Integer({ description: 'Events newer than the served models, held for fold-in' })),
  trainings: Type.Array(Type.Record(Type.String(), Type.Unknown())),
});
export const ModelsReply = Type.Object({ models: Type.Array(ModelInfo), catalog: Type.Optional(CatalogInfo), store: Type.Optional(StoreInfo) });
const ModelQueryName = Type.Optional(ModelName);
export const ModelQuery = Type.Object({ model: ModelQueryName }, { additionalProperties: false });
export const ReloadParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 128 }) });
export const HealthReply = Type.Object({ status: Type.String(), models: Type.Optional(Type.Integer()), policies: Type.Optional(Type.Integer()) });

/**
 * The statuses each kind of route can answer besides 200: every route 500 and 503 (busy, overloaded,
 * shutting down); a request with a body also 400 (schema, unknown attribute), 404 (unknown model or id),
 * 413 (body too large), 415 (not JSON) and 422 (values the engine rejects, a capability the model lacks);
 * admin routes 401 (wrong token), 403 (admin disabled), 404 (unknown model) and 422 (a file that does not load).
 */
const STATUSES = {
  read: [500, 503],
  query: [400, 404, 413, 415, 422, 500, 503],
  admin: [401, 403, 404, 413, 415, 422, 500, 503],
} as const;
export type RouteKind = keyof typeof STATUSES;
type ErrorReplies = Record<(typeof STATUSES)[RouteKind][number], typeof ErrorResponse>;

/** A response schema for exactly the statuses a route of this kind can answer. */
export function replies<T>(ok: T, kind: RouteKind = 'query'): { 200: T } & ErrorReplies {
  return Object.assign({ 200: ok }, Object.fromEntries(STATUSES[kind].map((s) => [s, ErrorResponse]))) as { 200: T } & ErrorReplies;
}

/** The same for a route that answers 202 Accepted. */
export function accepted<T>(ok: T, kind: RouteKind = 'query'): { 202: T } & ErrorReplies {
  return Object.assign({ 202: ok }, Object.fromEntries(STATUSES[kind].map((s) => [s, ErrorResponse]))) as { 202: T } & ErrorReplies;
}

export const ExplainBody = Type.Object(
  { model: Type.Optional(ModelName), user: Id, item: Id, k: Type.Optional(K) },
  { additionalProperties: false },
);
export const ExplainReply = Type.Object({
  ...Served,
  user: Id,
  item: Id,
  score: Type.Number(),
  contributions: Type.Array(Type.Object({ item: Id, contribution: Type.Number(), share: Type.Number() })),
});

// Marketing analytics.
export const SegmentParams = Type.Object({ user: Type.String({ minLength: 1, maxLength: LIMITS.idLength }) });
const Ranked = Type.Array(Type.Object({ item: Id, customers: Type.Integer() }));
export const SegmentProfileSchema = Type.Object({
  segment: Type.Integer(),
  size: Type.Integer(),
  share: Type.Number(),
  recencyDays: Type.Number(),
  frequency: Type.Number(),
  monetary: Type.Number(),
  topItems: Ranked,
  topCategories: Type.Array(Type.Object({ category: Type.String(), share: Type.Number() })),
});
export const SegmentReply = Type.Object({
  model: Type.String(),
  user: Id,
  segment: Type.Integer(),
  profile: SegmentProfileSchema,
});
export const SegmentsBody = Type.Object(
  { model: Type.Optional(ModelName), customers: Type.Array(Id, { minItems: 1, maxItems: LIMITS.batchUsers }) },
  { additionalProperties: false },
);
export const SegmentsReply = Type.Object({
  model: Type.String(),
  results: Type.Array(Type.Object({ user: Id, segment: Type.Integer() })),
  /** Each segment's profile once, for the segments in the results. */
  profiles: Type.Array(SegmentProfileSchema),
  unknown: Unknown,
});

export const PropensityBody = Type.Object(
  {
    model: Type.Optional(ModelName),
    customers: Type.Optional(Type.Array(Id, { minItems: 1, maxItems: LIMITS.batchUsers, description: 'Customers the model has rows for' })),
    histories: Type.Optional(
      Type.Array(
        Type.Object(
          {
            customer: Id,
            lines: Type.Array(
              Type.Object(
                { item: Id, time: Type.Number({ description: 'Unix seconds' }), amount: Type.Optional(Type.Number({ minimum: -LIMITS.value, maximum: LIMITS.value })), basket: Type.Optional(Id) },
                { additionalProperties: false },
              ),
              { minItems: 1, maxItems: LIMITS.listItems },
            ),
          },
          { additionalProperties: false },
        ),
        { minItems: 1, maxItems: 100, description: "Customers scored from their purchase lines with the model's feature recipe (new customers, fresh data)" },
      ),
    ),
    asOf: Type.Optional(Type.Number({ description: 'Unix seconds the history rows are computed at (default now)' })),
    attributions: Type.Optional(Type.Integer({ minimum: 0, maximum: 100, default: 5, description: 'Largest feature contributions returned per customer' })),
  },
  { additionalProperties: false },
);
export const PropensityResultSchema = Type.Object({
  customer: Id,
  probability: Type.Number(),
  attributions: Type.Array(Type.Object({ feature: Type.String(), contribution: Type.Number() })),
});
export const PropensityReply = Type.Object({ model: Type.String(), results: Type.Array(PropensityResultSchema), unknown: Unknown });

export const AlsoBoughtBody = Type.Object(
  { model: Type.Optional(ModelName), items: Type.Array(Id, { minItems: 1, maxItems: LIMITS.listItems }), k: Type.Optional(K), ...ItemQuery },
  { additionalProperties: false },
);
export const AlsoBoughtSchema = Type.Object({ item: Id, score: Type.Number(), confidence: Type.Number(), lift: Type.Number(), support: Type.Number(), because: Id, ...WithAttributes });
export const AlsoBoughtReply = Type.Object({ model: Type.String(), items: Type.Array(AlsoBoughtSchema) });

export const ClvBody = Type.Object(
  { model: Type.Optional(ModelName), customers: Type.Array(Id, { minItems: 1, maxItems: LIMITS.batchUsers }) },
  { additionalProperties: false },
);
export const CustomerValueSchema = Type.Object({
  customer: Id,
  probabilityAlive: Type.Number({ description: 'P(the customer is still active)' }),
  expectedPurchases: Type.Number({ description: "Expected repeat purchases over the model's horizon" }),
  expectedSpend: Type.Number({ description: 'Expected mean spend per purchase' }),
  value: Type.Number({ description: 'Discounted lifetime value over the horizon' }),
});
export const ClvReply = Type.Object({
  model: Type.String(),
  ...CustomerValueSchema.properties,
  months: Type.Integer(),
  segment: Type.Optional(Type.Integer({ description: 'The segment of the customer, when a segment model is served' })),
});
export const ClvListReply = Type.Object({ model: Type.String(), months: Type.Integer(), results: Type.Array(CustomerValueSchema), unknown: Unknown });

/** A known user, or a visitor described by the items they interacted with: exactly one of the two. */
export const ColdStartBody = Type.Object(
  {
    model: Type.Optional(ModelName),
    ...ItemQuery,
    user: Type.Optional(Id),
    items: Type.Optional(Type.Array(Id, { minItems: 1, maxItems: LIMITS.listItems })),
    values: Type.Optional(Type.Array(Value, { maxItems: LIMITS.listItems })),
    k: Type.Optional(K),
    filterSeen: Type.Optional(Type.Boolean({ default: true })),
    exclude: Type.Optional(IdList),
    include: Type.Optional(IdList),
  },
  { additionalProperties: false },
);
export const ColdStartReply = Type.Object({ model: Type.String(), items: Type.Array(Item) });
export const ContentSimilarReply = Type.Object({ model: Type.String(), neighbors: Type.Array(NeighborSchema) });
export const ContentSimilarBody = Type.Object({ model: Type.Optional(ModelName), item: Id, k: Type.Optional(K), ...ItemQuery }, { additionalProperties: false });

/** A customer's features by column name: numbers, yes/no, categories; null or absent is missing. */
export const FeatureRow = Type.Record(
  Type.String({ maxLength: 256 }),
  Type.Union([Type.Number(), Type.String({ maxLength: LIMITS.idLength }), Type.Boolean(), Type.Null()]),
  { maxProperties: 1000, description: 'Feature values by column, encoded as the model was trained (unknown categories and absent columns are missing)' },
);
const Label = Type.Union([Type.String(), Type.Number(), Type.Boolean()]);

export const PredictBody = Type.Object(
  { model: Type.Optional(ModelName), rows: Type.Array(FeatureRow, { minItems: 1, maxItems: LIMITS.batchUsers }) },
  { additionalProperties: false },
);
export const PredictReply = Type.Object({
  model: Type.String(),
  task: Type.Union([Type.Literal('classification'), Type.Literal('regression')]),
  classes: Type.Optional(Type.Array(Label)),
  results: Type.Array(
    Type.Object({
      value: Type.Optional(Type.Number({ description: 'Regression: the predicted value' })),
      label: Type.Optional(Label),
      probabilities: Type.Optional(Type.Array(Type.Number(), { description: 'Classification: one per class, in the order of classes' })),
    }),
  ),
});

export const UpliftBody = Type.Object(
  {
    model: Type.Optional(ModelName),
    customers: Type.Optional(Type.Array(Id, { minItems: 1, maxItems: LIMITS.batchUsers, description: 'Customers the model keeps rows for' })),
    rows: Type.Optional(Type.Array(FeatureRow, { minItems: 1, maxItems: LIMITS.batchUsers })),
  },
  { additionalProperties: false },
);
export const UpliftReply = Type.Object({
  model: Type.String(),
  arms: Type.Array(Type.String()),
  results: Type.Array(
    Type.Object({
      customer: Type.Optional(Id),
      uplift: Type.Array(Type.Number(), { description: "Each arm's expected outcome minus the control's, in the order of arms" }),
      best: Type.String({ description: 'The arm with the largest uplift' }),
      contact: Type.Boolean({ description: 'Whether the best arm is expected to beat no contact' }),
    }),
  ),
  unknown: Unknown,
});

const PolicyName = Type.String({ minLength: 1, maxLength: 128, description: 'Offer policy (default: the first served)' });
const Attribute = Type.Union([Type.Number(), Type.String({ maxLength: LIMITS.idLength }), Type.Boolean(), Type.Null()]);
export const OfferDecideBody = Type.Object(
  {
    policy: Type.Optional(PolicyName),
    customer: Id,
    context: Type.Optional(
      Type.Union([
        Type.Array(Type.Number(), { maxItems: 4096, description: "The policy's context features in order" }),
        Type.Record(Type.String({ maxLength: 256 }), Type.Number(), { maxProperties: 4096, description: 'Context features by name' }),
      ]),
    ),
    candidates: Type.Optional(Type.Array(Id, { minItems: 1, maxItems: LIMITS.listItems, description: 'Choose among these offers only' })),
    attributes: Type.Optional(Type.Record(Type.String({ maxLength: 256 }), Attribute, { maxProperties: 256, description: "What the offers' eligibility rules test" })),
  },
  { additionalProperties: false },
);
export const OfferDecideReply = Type.Object({
  policy: Type.String(),
  offer: Type.Union([Id, Type.Null()], { description: 'The offer to show (null: none is eligible)' }),
  propensity: Type.Number({ description: 'The probability the policy had of choosing it' }),
  decisionId: Type.Union([Type.String(), Type.Null()], { description: 'Send it back with the reward' }),
});
export const OfferRewardBody = Type.Object({ decisionId: Type.String({ minLength: 1, maxLength: 64 }), reward: Type.Number() }, { additionalProperties: false });
export const OfferRewardReply = Type.Object({ policy: Type.String(), decisionId: Type.String(), offer: Id, reward: Type.Number() });
export const OfferStatsQuery = Type.Object({ policy: Type.Optional(PolicyName) }, { additionalProperties: false });
export const OfferStatSchema = Type.Object({
  offer: Id,
  active: Type.Boolean(),
  shows: Type.Integer(),
  rewarded: Type.Integer(),
  rewardSum: Type.Number(),
  rate: Type.Number({ description: 'rewardSum / shows' }),
  ci: Type.Tuple([Type.Number(), Type.Number()], { description: '95% interval of the rate' }),
});
export const OfferStatsReply = Type.Object({ policy: Type.String(), offers: Type.Array(OfferStatSchema) });

/** Events: one object or an array of up to 10,000; each is checked by the store's validator (events/event.ts). */
export const EventsBody = Type.Union([Type.Object({}, { additionalProperties: true }), Type.Array(Type.Unknown(), { minItems: 1, maxItems: MAX_BATCH })], {
  description: '{ id?, type: purchase|view|click|cart|rating|<custom>, customer, item?, value?, amount?, basket?, time?, attributes? }, or an array of them',
});
export const EventsReply = Type.Object({ stored: Type.Integer(), duplicates: Type.Integer(), forgotten: Type.Integer(), lastSeq: Type.Integer() });
export const CustomerParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: LIMITS.idLength }) });
export const ForgetReply = Type.Object({
  customer: Id,
  eventsDeleted: Type.Integer(),
  modelsUpdated: Type.Array(Type.Object({ name: Type.String(), version: Type.Integer() })),
  modelsNotUpdated: Type.Optional(Type.Array(Type.Object({ name: Type.String(), reason: Type.String() }))),
  at: Type.String(),
});
const StoredEventSchema = Type.Object({
  seq: Type.Integer(),
  id: Type.Union([Type.String(), Type.Null()]),
  type: Type.String(),
  customer: Type.String(),
  item: Type.Union([Type.String(), Type.Null()]),
  value: Type.Union([Type.Number(), Type.Null()]),
  amount: Type.Union([Type.Number(), Type.Null()]),
  basket: Type.Union([Type.String(), Type.Null()]),
  time: Type.Number({ description: 'Unix milliseconds' }),
  attributes: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
});
export const CustomerDataReply = Type.Object({
  customer: Id,
  storedAs: Type.Optional(Type.String({ description: 'The pseudonym the store keeps the customer under' })),
  events: Type.Array(StoredEventSchema),
  models: Type.Array(Type.Object({ name: Type.String(), kind: Type.String(), version: Type.Integer(), knows: Type.Boolean() })),
  receipts: Type.Array(Type.Record(Type.String(), Type.Unknown()), { description: 'Earlier erasures of this customer' }),
});

export const RetrainBody = Type.Optional(
  Type.Object(
    {
      windowDays: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'Train on the last N days of events (default: all)' })),
      margin: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: "Keep the new model when its nDCG@10 is at least the serving model's minus this (default 0.005)" })),
      holdoutDays: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'The latest period held out to compare on (default 1 day)' })),
    },
    { additionalProperties: false },
  ),
);
export const RetrainReply = Type.Object({
  model: Type.String(),
  version: Type.Integer(),
  swap: Type.Boolean(),
  reason: Type.String(),
  ndcg: Type.Object({ candidate: Type.Number(), serving: Type.Union([Type.Number(), Type.Null()]) }),
  holdout: Type.Object({ users: Type.Integer(), from: Type.String() }),
  data: Type.Object({ events: Type.Integer(), users: Type.Integer(), items: Type.Integer() }),
  throughSeq: Type.Integer(),
  at: Type.String(),
});

/** True only when A and B are the same type (each assignable to the other, property by property). */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Check<T extends true> = T;
export type ReplyTypesMatchDomain = [
  Check<Same<Static<typeof Item>, Attributed<Recommendation>>>,
  Check<Same<Static<typeof NeighborSchema>, Attributed<Neighbor>>>,
  Check<Same<Static<typeof SegmentProfileSchema>, SegmentProfile>>,
  Check<Same<Static<typeof PropensityResultSchema>, PropensityResult>>,
  Check<Same<Static<typeof AlsoBoughtSchema>, Attributed<AlsoBought>>>,
  // The listing leaves out the samples kept for charts (thousands of numbers): the dashboard's routes serve them.
  Check<Same<Static<typeof TrainingMetadataSchema>, Omit<TrainingMetadata, 'holdout' | 'projection'>>>,
  Check<Same<Static<typeof CustomerValueSchema>, CustomerValue>>,
  Check<Same<Static<typeof OfferStatSchema>, OfferStat>>,
  Check<Same<Static<typeof StoredEventSchema>, StoredEvent>>,
  Check<Same<Static<typeof ForgetReply>, ForgetReceipt>>,
];

// The dashboard's read-only chart data (/v1/insights/*).
export const InsightsQuery = Type.Object({ model: Type.Optional(ModelName) }, { additionalProperties: false });
const SeriesSchema = Type.Object({ x: Type.Array(Type.Number()), y: Type.Array(Type.Number()) });
export const ChurnInsightsReply = Type.Object({
  model: Type.String(),
  rows: Type.Integer(),
  positives: Type.Integer(),
  rocAuc: Type.Number(),
  prAuc: Type.Number(),
  roc: SeriesSchema,
  pr: SeriesSchema,
  calibration: Type.Array(Type.Object({ lower: Type.Number(), upper: Type.Number(), count: Type.Integer(), meanPredicted: Type.Number(), observedRate: Type.Number() })),
  weights: Type.Array(Type.Object({ feature: Type.String(), weight: Type.Number() })),
  weightKind: Type.Union([Type.Literal('coefficient'), Type.Literal('importance')]),
});
const Interval = Type.Tuple([Type.Number(), Type.Number()]);
export const CampaignInsightsReply = Type.Object({
  model: Type.String(),
  control: Type.String(),
  arms: Type.Array(Type.Object({ arm: Type.String(), rows: Type.Integer(), rate: Type.Number(), ci: Interval, lift: Type.Number() })),
  qini: Type.Array(Type.Object({ arm: Type.String(), coefficient: Type.Number(), curve: SeriesSchema, upliftArea: Type.Number(), uplift: SeriesSchema })),
});
export const LifetimeInsightsReply = Type.Object({
  model: Type.String(),
  T: Type.Number(),
  grid: Type.Object({ frequency: Type.Array(Type.Number()), recency: Type.Array(Type.Number()), probabilityAlive: Type.Array(Type.Number()), expectedPurchases: Type.Array(Type.Number()), horizonWeeks: Type.Number() }),
  values: Type.Array(Type.Object({ lower: Type.Number(), upper: Type.Number(), count: Type.Integer() })),
  holdout: Type.Optional(Type.Object({ weeks: Type.Number(), groups: Type.Array(Type.Object({ frequency: Type.Integer(), customers: Type.Integer(), predicted: Type.Number(), actual: Type.Number() })) })),
});
export const SegmentsInsightsReply = Type.Object({
  model: Type.String(),
  k: Type.Integer(),
  silhouette: Type.Number(),
  inertia: Type.Number(),
  profiles: Type.Array(SegmentProfileSchema),
  diagnostics: Type.Array(Type.Object({ k: Type.Integer(), inertia: Type.Number(), silhouette: Type.Number() })),
  projection: Type.Optional(Type.Object({ x: Type.Array(Type.Number()), y: Type.Array(Type.Number()), segment: Type.Array(Type.Integer()), explained: Type.Tuple([Type.Number(), Type.Number()]) })),
});
export const QualityInsightsReply = Type.Object({
  model: Type.String(),
  kind: Type.String(),
  curves: Type.Record(Type.String(), Type.Array(Type.Number())),
  figures: Type.Record(Type.String(), Type.Number()),
  lists: Type.Optional(
    Type.Object({ users: Type.Integer(), k: Type.Integer(), coverage: Type.Number(), recommendedPopularity: Type.Number(), historyPopularity: Type.Number(), topDecileShare: Type.Number() }),
  ),
});
const LatencyRowSchema = Type.Object({ key: Type.String(), count: Type.Integer(), errors: Type.Integer(), p50: Type.Union([Type.Number(), Type.Null()]), p99: Type.Union([Type.Number(), Type.Null()]), seconds: Type.Number() });
export const OverviewInsightsReply = Type.Object({
  at: Type.String(),
  uptimeSeconds: Type.Number(),
  models: Type.Array(
    Type.Object({ name: Type.String(), kind: Type.String(), recommends: Type.Boolean(), version: Type.Integer(), loadedAt: Type.String(), trainedAt: Type.Optional(Type.String()), quality: Type.Optional(Type.Record(Type.String(), Type.Number())), data: Type.Optional(Type.Record(Type.String(), Type.Number())) }),
  ),
  policies: Type.Array(Type.String(), { description: 'Offer policies served' }),
  reloads: Type.Array(Type.Object({ at: Type.String(), model: Type.String(), ok: Type.Boolean(), version: Type.Optional(Type.Integer()), error: Type.Optional(Type.String()) })),
  totals: Type.Object({ requests: Type.Integer(), errors: Type.Integer() }),
  routes: Type.Array(LatencyRowSchema),
  engine: Type.Array(LatencyRowSchema),
});
export const OffersInsightsReply = Type.Object({
  policy: Type.String(),
  offers: Type.Array(OfferStatSchema),
  timeline: Type.Object({ at: Type.Array(Type.Number()), decisions: Type.Array(Type.Integer()), reward: Type.Array(Type.Number()) }),
  estimates: Type.Array(Type.Object({ estimator: Type.String(), value: Type.Number(), ci: Type.Array(Type.Union([Type.Number(), Type.Null()])), effectiveSampleSize: Type.Number(), rows: Type.Integer(), logged: Type.Number() })),
});

export const CustomerInsightsBody = Type.Object({ customer: Id }, { additionalProperties: false });
const Labelled = { name: Type.Optional(Type.String()), category: Type.Optional(Type.String()) };
export const CustomerInsightsReply = Type.Object({
  customer: Id,
  history: Type.Object({
    trained: Type.Array(Type.Object({ item: Id, value: Type.Number(), ...Labelled }), { description: 'The most valuable items of the training data (at most 50)' }),
    trainedCount: Type.Integer(),
    events: Type.Array(
      Type.Object({ type: Type.String(), item: Type.Union([Type.String(), Type.Null()]), value: Type.Union([Type.Number(), Type.Null()]), amount: Type.Union([Type.Number(), Type.Null()]), time: Type.Number(), ...Labelled }),
      { description: 'The latest stored events (at most 200)' },
    ),
  }),
  segment: Type.Optional(Type.Object({ model: Type.String(), segment: Type.Integer(), profile: SegmentProfileSchema })),
  churn: Type.Optional(Type.Object({ model: Type.String(), probability: Type.Number(), attributions: PropensityResultSchema.properties.attributions })),
  value: Type.Optional(Type.Object({ model: Type.String(), months: Type.Integer(), ...CustomerValueSchema.properties })),
  recommendations: Type.Optional(
    Type.Object({
      model: Type.String(),
      fresh: Type.Optional(Type.Integer({ description: 'Events since training folded into these recommendations' })),
      items: Type.Array(Type.Object({ item: Id, score: Type.Number(), ...Labelled, because: Type.Array(Type.Object({ item: Id, share: Type.Number(), ...Labelled })) })),
    }),
  ),
  offer: Type.Optional(Type.Object({ policy: Type.String(), offers: Type.Array(Type.Object({ offer: Id, probability: Type.Number(), estimate: Type.Optional(Type.Number()) })) })),
});
