// affinity/server: the scoring service for embedding in your own process.
export { buildApp, EngineGate, type AppOptions } from './app.js';
export { serve, type ServeOptions } from './main.js';
export { ModelRegistry, type ModelEntry, type ModelKind, type ReloadEvent } from './registry.js';
export { resolveId } from '../data/ids.js';
export { LIMITS } from './schemas.js';
export type { AnalyticsModels } from './routes/analytics.js';
