// The engine gate: a bound on engine calls and on the result slots large answers hold at once.
import { AffinityError, ErrorCode } from '../core/errors.js';
import type { Metrics } from './metrics.js';

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
