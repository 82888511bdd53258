// What the affinity plugin gives its routes and the app it is registered in: one decorator, `affinity`,
// typed here rather than by augmenting every FastifyInstance of the user's program.
import type { FastifyInstance } from 'fastify';
import { AffinityError, ErrorCode } from '../core/errors.js';
import type { EngineGate } from './gate.js';
import type { Metrics } from './metrics.js';
import type { ModelRegistry } from './registry.js';
import type { EventsService } from './events.js';

/** What the server knows of itself: shutting down, and the admin token (admin routes are off without one). */
export interface ServerState {
  closing: boolean;
  readonly adminToken?: string | undefined;
}

/** The models, metrics, engine gate and state of one registration of the plugin. */
export interface AffinityContext {
  readonly registry: ModelRegistry;
  readonly engine: EngineGate;
  readonly state: ServerState;
  readonly metrics: Metrics;
  /** The events store and what the server does with it, when it has one (`store` option). */
  readonly events?: EventsService;
}

/** A Fastify instance the plugin was registered in, as its type: `app.affinity` is the context. */
export type WithAffinity = FastifyInstance & { readonly affinity: AffinityContext };

/** The context of the plugin registered in `app` (or an enclosing scope); throws when there is none. */
export function affinityOf(app: FastifyInstance): AffinityContext {
  const ctx = (app as Partial<WithAffinity>).affinity;
  if (!ctx) throw new AffinityError('affinity is not registered in this Fastify instance: await app.register(affinity, options) first', ErrorCode.NotReady);
  return ctx;
}
