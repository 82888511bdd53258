// affinity/server: the scoring service, as a Fastify plugin for your app or a server of its own.
export { affinity, type AffinityOptions } from './plugin.js';
export { affinityOf, type AffinityContext, type ServerState, type WithAffinity } from './context.js';
export { buildApp, type AppOptions } from './app.js';
export { EngineGate } from './gate.js';
export { serve, type ServeOptions } from './main.js';
export { ModelRegistry, type ModelEntry, type ModelKind, type ReloadEvent } from './registry.js';
export { resolveId } from '../data/ids.js';
export { LIMITS } from './limits.js';
export type { AnalyticsModels } from './analytics-models.js';
export { OfferService, type DecideRequest, type OfferDecision, type OfferPolicyOptions, type OffersOptions, type OfferStat } from './offers.js';
export { EventsService, type EventsOptions } from './events.js';
export { retrainFromStore, type RetrainDecision, type RetrainOptions } from './retrain.js';
