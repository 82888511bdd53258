// What the OpenAPI document says of each operation: a summary, a description and a request example. Kept
// beside each other so the API reads as one document; the plugin applies them as routes are added, and
// refuses a route that has none (a test checks the generated document).

export interface OperationDoc {
  summary: string;
  description: string;
  /** A request body that works against the demo (`npm start`). */
  example?: Record<string, unknown>;
  /** Admin routes: a bearer token (AFFINITY_ADMIN_TOKEN). */
  admin?: true;
}

const LIST = 'Ids the model does not know are left out of the results and listed in `unknown`; the list never fails on them.';

export const OPERATION_DOCS: Record<string, OperationDoc> = {
  recommend: {
    summary: 'Recommendations for a known user',
    description: 'Top-k items for a user the model was trained on, best first; `filter` applies catalogue conditions inside the scan and `fields` returns catalogue attributes. `fallback: "popular"` answers an unknown user with the most popular items instead of 404.',
    example: { user: 'c1', k: 5, filter: { inStock: true }, fields: ['title', 'price'] },
  },
  recommendBatch: {
    summary: 'Recommendations for many users',
    description: `Top-k items for up to 1000 users in one call, computed on the engine's threads and streamed. ${LIST}`,
    example: { users: ['c1', 'c2', 'new-customer'], k: 5 },
  },
  recommendAnonymous: {
    summary: 'Recommendations for a visitor from their items',
    description: 'Folds in a visitor the model has never seen from the items they viewed or bought (and optional weights); unknown items are ignored.',
    example: { items: ['p1', 'p7'], k: 5 },
  },
  score: {
    summary: "A user's scores for given items",
    description: `The model's score of each listed item for a known user (an unknown user is 404). ${LIST}`,
    example: { user: 'c1', items: ['p1', 'p2', 'new-sku'] },
  },
  explain: {
    summary: 'Why an item is recommended to a user',
    description: "The user's past items that drive the model's score of the item, with each one's contribution and share of the score (ALS models).",
    example: { user: 'c1', item: 'p3', k: 5 },
  },
  similarItems: {
    summary: 'Items similar to an item',
    description: "The item's nearest neighbours in the model (factor cosine for ALS, the similarity matrix for ItemKNN), with catalogue filters.",
    example: { item: 'p1', k: 5 },
  },
  similarUsers: {
    summary: 'Users similar to a user',
    description: "The user's nearest neighbours in the model (UserKNN and ALS).",
    example: { user: 'c1', k: 5 },
  },
  segmentOf: {
    summary: "A customer's segment",
    description: 'The segment a customer falls in and that segment’s profile (size, recency, frequency, spend, top items and categories). An unknown customer is 404.',
  },
  segmentsOf: {
    summary: 'Segments of many customers',
    description: `The segment of each listed customer, with each segment's profile once. ${LIST}`,
    example: { customers: ['c1', 'c2', 'nobody'] },
  },
  propensity: {
    summary: 'Churn (or other) propensity of customers',
    description: `Probabilities from a propensity model with the largest feature attributions, for customers the model has rows for (${LIST.toLowerCase()}) or for purchase-line histories scored with the model's feature recipe.`,
    example: { customers: ['c1', 'c2'], attributions: 3 },
  },
  predict: {
    summary: 'Predictions of a tree or forest model for feature rows',
    description: 'Class probabilities and the most probable label (classification) or the predicted value (regression) of each row, from a decision tree or random forest trained on a feature table (affinity train --model forest). Rows are objects of feature values by column; unknown categories and absent columns take the missing-value branch.',
    example: { rows: [{ recency: 3, channel: 'Web', newbie: 1 }] },
  },
  uplift: {
    summary: 'Campaign uplift per arm, and whom to contact',
    description: `Each arm's expected outcome minus the control's for customers the uplift model keeps rows for (${LIST.toLowerCase()}) or for feature rows, with the best arm and whether it is expected to beat no contact (affinity train --model uplift).`,
    example: { rows: [{ recency: 3, channel: 'Web', history: 250 }] },
  },
  offersDecide: {
    summary: 'Choose an offer for a customer, and log the decision',
    description: 'The policy (a bandit) chooses among the eligible offers for the customer\'s context and answers with the offer, its propensity and a decisionId; the decision is on disk (the decision log) before the answer. `offer` is null when no offer is eligible.',
    example: { customer: 'c1', context: { recencyDays: 20, baskets: 4, spend: 300 } },
  },
  offersReward: {
    summary: 'Report the reward of a decision',
    description: 'The policy learns from it once it is on disk. A decision that is unknown or older than the reward window is 404; a second reward for one decision is 409, so a retried request never counts twice.',
    example: { decisionId: '00000000-0000-4000-8000-000000000000', reward: 1 },
  },
  offersStats: {
    summary: 'Shows, rewards and rates per offer',
    description: 'Per offer of a policy: decisions (shows), rewarded decisions, the sum of rewards and the rate per show with a 95% interval.',
  },
  clvOf: {
    summary: "A customer's lifetime value",
    description: "P(alive), expected purchases and spend over the model's horizon and the discounted value, from a lifetime-value model (affinity clv --out); with the customer's segment when a segment model is served. An unknown customer is 404.",
  },
  clvOfMany: {
    summary: 'Lifetime value of many customers',
    description: `P(alive), expected purchases, spend and discounted value of each listed customer. ${LIST}`,
    example: { customers: ['12347', '12348', 'nobody'] },
  },
  alsoBought: {
    summary: 'Items bought together with given items',
    description: 'Co-purchase rules for a basket: items with their confidence, lift and support, and the basket item each one comes from.',
    example: { items: ['p1'], k: 5 },
  },
  contentRecommend: {
    summary: 'Content-based recommendations',
    description: 'Items like the ones a user (or a visitor, from their items) interacted with, by product text and categories; works for items nobody bought yet.',
    example: { items: ['p1', 'p2'], k: 5 },
  },
  contentSimilar: {
    summary: 'Items similar by content',
    description: "An item's nearest neighbours by product text and categories.",
    example: { item: 'p1', k: 5 },
  },
  hybridRecommend: {
    summary: 'Hybrid content and collaborative recommendations',
    description: 'A blend of a content model and a collaborative one: new items and new users lean on content, the others on behaviour.',
    example: { user: 'c1', k: 5 },
  },
  listModels: {
    summary: 'The models and catalogue served',
    description: 'Each model with its kind, version (counts reloads), sizes, load time and training metadata; the catalogue with its version and attributes.',
  },
  ingestEvents: {
    summary: 'Record what customers did',
    description:
      'One event or a batch of up to 10,000 (purchase, view, click, cart, rating, or a custom type). The batch is checked as a whole: one bad event refuses all of it (422, naming its place). 202 once committed to the store; an `id` makes the write idempotent. A full write queue answers 503 with Retry-After. The events reach `/v1/recommend` at once.',
    example: { id: 'order-1001-p3', type: 'purchase', customer: 'c1', item: 'p3', amount: 12.5, time: '2026-12-01T10:00:00Z' },
  },
  retrainModel: {
    summary: 'Retrain a model from the events store',
    description:
      "Trains a model of the same kind and options on the store's events (a window of days, or all), compares it with the serving model on the latest day neither saw (nDCG@10), and swaps it in only when it is not worse than the margin; the new model is saved over the served file. The decision is kept in the store's training records (GET /v1/models).",
    admin: true,
  },
  customerData: {
    summary: 'Everything kept about a customer',
    description: "The customer's stored events, which served models know them, and earlier erasures (the right of access).",
    admin: true,
  },
  forgetCustomer: {
    summary: 'Forget a customer everywhere',
    description:
      "Deletes the customer's events (leaving a tombstone, so no later append or retrain brings them back), rewrites every served model that knows them without them (saved over its file and swapped in), and answers with a receipt that is kept in the store's audit records.",
    admin: true,
  },
  reloadModel: {
    summary: 'Reload a model from its file',
    description: 'Loads and checks the file off to the side, then swaps it in; requests in flight finish on the old version. A file that does not load keeps the old one (422).',
    admin: true,
  },
  reloadCatalog: {
    summary: 'Reload the product catalogue',
    description: 'Reads the catalogue file again and swaps it in; a file that does not parse keeps the old one (422).',
    admin: true,
  },
  insightsChurn: {
    summary: "A churn model's held-out curves and weights",
    description:
      'ROC and precision-recall curves (at most 200 points each), AUCs, a 10-bin calibration table and the feature weights (logistic coefficients on standardized features, or forest importances) of a propensity model, from the held-out check kept in its file (no customer ids). A model file without one is 422.',
  },
  insightsCampaigns: {
    summary: "A campaign's held-out arm rates, lifts and Qini curves",
    description: "Each arm's outcome rate with a 95% interval (Wilson's for 0/1 outcomes) and its lift over the control, and each treatment arm's Qini curve and coefficient, from the held-out rows an uplift model was checked on (kept in its file, no customer ids). A model file without them is 422.",
  },
  insightsLifetime: {
    summary: "A lifetime-value model's heat maps, value distribution and holdout check",
    description: "P(alive) and expected purchases over the model's horizon on a grid of repeat purchases x recency at the longest customer age (lifetimes' frequency/recency matrices), a 20-bin histogram of customers' discounted values (a sample of at most 2,000), and, where the file keeps one, mean predicted against actual holdout purchases by calibration frequency.",
  },
  insightsSegments: {
    summary: "A segmentation's profiles, map and k diagnostics",
    description: "Each segment's size, share, mean recency, frequency and spend, top items and categories; a sample of customers (at most 2,000, no ids) on the two leading principal axes of the clustered space with the variance each explains; inertia and silhouette for every k tried.",
  },
  insightsQuality: {
    summary: "A recommender's training curves, figures and what it recommends",
    description: "The loss (ALS) or share of pairs ranked right (BPR) per iteration, the quality figures kept in its file (training and the last evaluation), and top-10 lists for a sample of 500 of its users: catalogue coverage, mean popularity percentile of recommended items against the items users had, and the share from the 10% most popular items.",
  },
  insightsCustomer: {
    summary: 'One customer across the served models',
    description:
      "What a customer did (their training items and latest stored events), their segment, churn probability with its top attributions, lifetime value and P(alive), five recommendations with the items behind each, and each offer's chance under the first policy (a preview: nothing is logged). Parts whose model is not served or does not know the customer are left out; a customer no model and no stored event knows is 404. The id is in the body so that it stays out of access logs. Guarded by the admin token when the server has one.",
    example: { customer: 'u1' },
  },
  insightsOverview: {
    summary: 'Served models, reloads and live traffic',
    description: 'Each model with its kind, version, load and training times, training figures and data sizes; the last 50 reloads; and per route and engine operation the requests, 5xx errors and p50/p99 seconds since the server started, from the same histograms as /metrics. Two readings give requests per second.',
  },
  insightsOffers: {
    summary: "A policy's offers, rewards over time and off-policy value",
    description: "The policy's per-offer statistics (as /v1/offers/stats), decisions and rewards accumulated in the order of its decision log (at most 200 points), and the value of the policy as it is now on the logged decisions by IPS and SNIPS with 200-resample bootstrap intervals, beside the logged mean reward (none while the log holds no decisions).",
  },
  live: { summary: 'Liveness probe', description: 'Answers 200 while the process runs, even under load shedding: an overloaded process is alive.' },
  ready: { summary: 'Readiness probe', description: 'Answers 200 while models are loaded and the server is not shutting down, else 503 with Retry-After.' },
};
