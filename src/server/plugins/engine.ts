// The engine plugin: the model registry, metrics, the concurrency gate and the server's state, declared
// once as decorators (fastify-plugin, so they reach the root), with the shutdown hooks that belong to them.
import fp from 'fastify-plugin';
import { AffinityError, ErrorCode } from '../../core/errors.js';
import type { Metrics } from '../metrics.js';
import type { ModelRegistry } from '../registry.js';

/**
 * Counts engine calls in flight and refuses new ones (503) past the limit, so work cannot pile up. Large
 * answers also hold a cost (result slots: users × k) from before the engine call until their reply is
 * written, so a few maximum-size batches cannot take the memory and the event loop of all the others.
 */
export class EngineGate {
  inFlight = 0;
  inFlightCost = 0;
  constructor(
    readonly limit: number,
    private readonly metrics: Metrics,
    readonly costLimit = 2_000_000,
  ) {}

  /**
   * Reserves `cost` result slots, or throws Busy when they do not fit (one request alone is always admitted).
   * The reservation can shrink once the exact cost is known, and is released once, however often asked.
   */
  reserve(cost: number): Reservation {
    if (this.inFlightCost > 0 && this.inFlightCost + cost > this.costLimit)
      throw new AffinityError('the engine is busy with large requests; retry shortly', ErrorCode.Busy);
    this.inFlightCost += cost;
    let held = cost;
    return {
      shrink: (to: number) => {
        const next = Math.min(held, Math.max(0, to));
        this.inFlightCost -= held - next;
        held = next;
      },
      release: () => {
        this.inFlightCost -= held;
        held = 0;
      },
    };
  }

  async run<T>(op: string, fn: () => Promise<T> | T): Promise<T> {
    if (this.inFlight >= this.limit) throw new AffinityError('the engine is busy; retry shortly', ErrorCode.Busy);
    this.inFlight++;
    this.metrics.inFlight.set({}, this.inFlight);
    const started = performance.now();
    try {
      return await fn();
    } finally {
      this.inFlight--;
      this.metrics.inFlight.set({}, this.inFlight);
      this.metrics.engine.observe({ op }, (performance.now() - started) / 1000);
    }
  }
  /** Resolves once nothing runs (or after `ms`). */
  async drain(ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (this.inFlight > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
  }
}

export interface Reservation {
  /** Lowers the reservation to the exact cost, once the request is parsed. */
  shrink(cost: number): void;
  release(): void;
}

/** What the server knows of itself: shutting down, and the admin token (admin routes are off without one). */
export interface ServerState {
  closing: boolean;
  readonly adminToken?: string;
}

/** What route modules are given through `register` options. */
export interface EngineDeps {
  registry: ModelRegistry;
  engine: EngineGate;
  state: ServerState;
  metrics: Metrics;
}

declare module 'fastify' {
  interface FastifyInstance {
    registry: ModelRegistry;
    metrics: Metrics;
    engine: EngineGate;
    affinity: ServerState;
  }
}

export interface EnginePluginOptions extends EngineDeps {
  /** How long shutdown waits for engine calls in flight (ms). */
  drainMs: number;
}

export const enginePlugin = fp<EnginePluginOptions>(
  async (app, { registry, metrics, engine, state, drainMs }) => {
    app.decorate('registry', registry);
    app.decorate('metrics', metrics);
    app.decorate('engine', engine);
    app.decorate('affinity', state);
    app.addHook('preClose', async () => {
      state.closing = true; // readiness turns 503 first
    });
    app.addHook('onClose', async () => {
      await engine.drain(drainMs);
    });
  },
  { name: 'affinity-engine', fastify: '5.x', decorators: {} },
);
