// The events side of a server: the store it writes to, the fresh events it folds into recommendations,
// and erasure across everything it serves. One EventsService per plugin registration.
import { AffinityError, ErrorCode } from '../core/errors.js';
import { resolveId, type Id, type IdMap } from '../data/ids.js';
import { strengthOf } from '../events/event.js';
import { FreshEvents, type FreshOptions } from '../events/fresh.js';
import { EventStore, type AppendResult, type ForgetReceipt, type StoreOptions } from '../events/store.js';
import { isRecommender, type History, type InteractionModel, type Model, type Recommender } from '../models/contract.js';
import { retrainFromStore, type RetrainDecision, type RetrainOptions } from './retrain.js';
import type { ModelEntry, ModelRegistry } from './registry.js';

export interface EventsOptions extends StoreOptions {
  /** The events store: an EventStore you opened (you close it then), or a spec (sqlite:PATH, postgres://...). */
  store: EventStore | string;
  /** Fold events newer than a model's training into its recommendations (default true; per request `fresh`). */
  fresh?: boolean | FreshOptions;
  /** Delete events older than this many days (checked hourly). */
  retainDays?: number;
  /** Retrain the served models that can be trained from events, on a timer (see retrain()). */
  retrain?: { everyMs: number; models?: string[]; windowDays?: number; margin?: number; onResult?: (r: RetrainDecision & { model: string; version: number }) => void; onError?: (name: string, err: Error) => void };
}

/** A builder of new untrained models like a served one (its kind and training options), when it trains on interactions. */
export function likeServed(model: Model): (() => InteractionModel) | undefined {
  const m = model as Partial<InteractionModel>;
  if (typeof m.fit !== 'function' || !isRecommender(model)) return undefined;
  const Kind = model.constructor as new (options: object) => InteractionModel;
  return () => new Kind({ ...(model.metadata?.options ?? {}), threads: undefined });
}

/** What a model holds about customers: the id map its rows are in, whatever its kind. */
export function customersOf(model: Model): IdMap | undefined {
  const m = model as { users?: IdMap; customers?: IdMap; dataset?: { customers: IdMap }; collaborative?: { users: IdMap } };
  return m.users ?? m.customers ?? m.dataset?.customers ?? m.collaborative?.users;
}

/** The seq of the store a model was trained through (events after it are fresh to it); 0 for models from files. */
export function trainedThrough(model: Model): number {
  return model.metadata?.data?.storeSeq ?? 0;
}

export class EventsService {
  private erasing: Promise<unknown> = Promise.resolve();
  private retention?: NodeJS.Timeout;

  private constructor(
    readonly store: EventStore,
    readonly fresh: FreshEvents | undefined,
    private readonly registry: ModelRegistry,
    private readonly owned: boolean,
    readonly retainDays: number | undefined,
  ) {}

  static async open(options: EventsOptions, registry: ModelRegistry): Promise<EventsService> {
    const owned = typeof options.store === 'string';
    const store = typeof options.store === 'string' ? await EventStore.open(options.store, options) : options.store;
    if (!(store instanceof EventStore)) throw new AffinityError('events.store must be an EventStore or a store spec', ErrorCode.BadInput);
    let fresh: FreshEvents | undefined;
    if (options.fresh !== false) {
      const served = registry.list().map((e) => trainedThrough(e.model));
      fresh = new FreshEvents(store, { afterSeq: served.length > 0 ? Math.min(...served) : await store.lastSeq(), ...(typeof options.fresh === 'object' ? options.fresh : {}) });
      await fresh.catchUp();
    }
    const service = new EventsService(store, fresh, registry, owned, options.retainDays);
    // Models loaded from files may predate erasures: take out every tombstoned customer before serving.
    // A failure here fails the start: serving a forgotten customer is not an option.
    await service.applyErasures([...(await store.tombstones()).keys()]);
    if (fresh) {
      fresh.onForgotten = (forgotten) => void service.applyErasures(forgotten.map(([key]) => key)).catch(() => {});
      await fresh.readTombstones();
    }
    if (options.retainDays !== undefined) {
      await service.applyRetention();
      service.retention = setInterval(() => void service.applyRetention().catch(() => {}), 3_600_000);
      service.retention.unref();
    }
    if (options.retrain) service.scheduleRetrain(options.retrain);
    return service;
  }

  private retrainTimer?: NodeJS.Timeout;
  private scheduleRetrain(o: NonNullable<EventsOptions['retrain']>): void {
    if (!(o.everyMs >= 1000)) throw new AffinityError('retraining runs at most once a second (everyMs >= 1000)', ErrorCode.BadInput);
    let running = false;
    this.retrainTimer = setInterval(async () => {
      if (running) return;
      running = true;
      try {
        for (const entry of this.registry.list()) {
          if ((o.models && !o.models.includes(entry.name)) || !likeServed(entry.model)) continue;
          try {
            o.onResult?.(await this.retrain(entry.name, { windowDays: o.windowDays, margin: o.margin }));
          } catch (err) {
            o.onError?.(entry.name, err as Error);
          }
        }
      } finally {
        running = false;
      }
    }, o.everyMs);
    this.retrainTimer.unref();
  }

  /** Deletes events past the retention period, from the store and from the fresh events. */
  async applyRetention(now = Date.now()): Promise<number> {
    if (this.retainDays === undefined) return 0;
    const deleted = await this.store.deleteOlderThan(this.retainDays, now);
    this.fresh?.prune({ before: now - this.retainDays * 86_400_000 });
    return deleted;
  }

  /** Validates and stores events; resolves once they are committed (and visible to this server's next request). */
  async append(events: unknown): Promise<AppendResult> {
    return this.committed(await this.store.append(events));
  }

  /** append() of a request body's JSON text (parsed and checked in the store's thread where it has one). */
  async appendJson(json: string): Promise<AppendResult> {
    return this.committed(await this.store.appendJson(json));
  }

  private committed(result: AppendResult): AppendResult {
    this.fresh?.noteCommitted(result.lastSeq);
    return result;
  }

  /** The customer's id as a model knows it: as asked, or (models trained on a pseudonymized store) its pseudonym. */
  private idIn(map: IdMap | undefined, customer: Id): Id | undefined {
    if (!map) return undefined;
    return resolveId(map, customer) ?? (this.store.pseudonyms.enabled ? resolveId(map, this.store.keyOf(customer)) : undefined);
  }

  /**
   * The history to fold in for a customer: their training items (when the model knows them) and their
   * events since the model was trained. Undefined when there are no fresh events, or the model cannot fold in.
   */
  async historyFor(entry: ModelEntry<Recommender>, customer: Id): Promise<{ history: History; fresh: number; known: boolean } | undefined> {
    const model = entry.model;
    if (!this.fresh || !model.recommendForAsync) return undefined;
    const events = (await this.fresh.eventsOf(this.store.keyOf(customer), trainedThrough(model))).filter((e) => e.item !== null && resolveId(model.items, e.item) !== undefined);
    if (events.length === 0) return undefined;
    const user = this.idIn(model.users, customer);
    const past = user !== undefined && model.data ? model.data.itemsOf(user) : [];
    return {
      history: {
        items: [...past.map((p) => p.item), ...events.map((e) => resolveId(model.items, e.item!)!)],
        values: [...past.map((p) => p.value), ...events.map((e) => strengthOf(e))],
      },
      fresh: events.length,
      known: user !== undefined,
    };
  }

  /**
   * Forgets a customer everywhere: their events (with a tombstone, so no append or retrain brings them
   * back), the fresh events, and every served model that knows them (rewritten without them, saved over
   * its file, swapped in). The receipt is kept in the store's audit records. One erasure at a time.
   */
  forget(customer: Id): Promise<ForgetReceipt> {
    const run = this.erasing.then(() => this.forgetNow(customer));
    this.erasing = run.catch(() => {});
    return run;
  }

  private async forgetNow(customer: Id): Promise<ForgetReceipt> {
    const erased = await this.store.forget(customer);
    await this.fresh?.forget(erased.key, erased.at);
    const { modelsUpdated, modelsNotUpdated } = await this.rewriteWithout([customer]);
    const receipt: ForgetReceipt = { customer, eventsDeleted: erased.eventsDeleted, modelsUpdated, ...(modelsNotUpdated.length > 0 ? { modelsNotUpdated } : {}), at: new Date(erased.at).toISOString() };
    // The audit record names the customer by store key: with pseudonyms on, the audit table holds no id either.
    await this.store.addRecord('receipts', erased.key, { ...receipt, customer: erased.key }, erased.at);
    return receipt;
  }

  /**
   * Every served model that knows any of these customers, rewritten without them, saved over its file
   * and swapped in; models that cannot be rewritten are listed with the reason.
   */
  private async rewriteWithout(customers: Id[]): Promise<Pick<ForgetReceipt, 'modelsUpdated'> & { modelsNotUpdated: NonNullable<ForgetReceipt['modelsNotUpdated']> }> {
    const modelsUpdated: ForgetReceipt['modelsUpdated'] = [];
    const modelsNotUpdated: NonNullable<ForgetReceipt['modelsNotUpdated']> = [];
    for (const entry of this.registry.list()) {
      const map = customersOf(entry.model);
      const ids = customers.map((c) => this.idIn(map, c)).filter((id): id is Id => id !== undefined);
      if (ids.length === 0) continue;
      if (!entry.model.withoutCustomers) {
        modelsNotUpdated.push({ name: entry.name, reason: `a ${entry.kind} model cannot be rewritten without a customer; retrain it` });
        continue;
      }
      const without = await entry.model.withoutCustomers(ids);
      if (entry.path) await without.save(entry.path);
      const next = this.registry.add(entry.name, without, entry.path);
      modelsUpdated.push({ name: next.name, version: next.version });
    }
    return { modelsUpdated, modelsNotUpdated };
  }

  /**
   * Erasures this server did not make (another server on the store, `affinity forget`, or while it was
   * down): the customers they name are taken out of what it serves, as forget() would.
   */
  private applyErasures(keys: string[]): Promise<unknown> {
    const run = this.erasing.then(() => this.rewriteWithout(keys));
    this.erasing = run.catch((err: Error) => this.onErasureError?.(err));
    return run;
  }

  /** Told when an erasure made elsewhere could not be applied to the served models. */
  onErasureError?: (err: Error) => void;

  /**
   * Retrains a served model from the store (see retrainFromStore) and, when the candidate is not worse,
   * saves it over the model's file and swaps it in. Every decision is kept in the store's training records.
   */
  async retrain(name: string, options: Omit<RetrainOptions, 'store' | 'serving' | 'build'> & { build?: RetrainOptions['build'] } = {}): Promise<RetrainDecision & { model: string; version: number }> {
    const entry = this.registry.byName(name);
    const build = options.build ?? likeServed(entry.model);
    if (!build) throw new AffinityError(`model ${name} (${entry.kind}) is not trained from interactions: it cannot be retrained from events`, ErrorCode.Unsupported);
    const { model, decision } = await retrainFromStore({ ...options, build, store: this.store, serving: isRecommender(entry.model) ? entry.model : undefined });
    let version = entry.version;
    if (model) {
      if (entry.path) await model.save(entry.path);
      version = this.registry.add(name, model, entry.path).version;
      this.fresh?.prune({ throughSeq: Math.min(...this.registry.list().map((e) => trainedThrough(e.model))) });
    }
    await this.store.addRecord('trainings', name, { ...decision, version });
    return { ...decision, model: name, version };
  }

  /** Everything kept about a customer: stored events, which served models know them, past erasures. */
  async dataOf(customer: Id) {
    const key = this.store.keyOf(customer);
    const events = await this.store.eventsOf(customer);
    const models = this.registry.list().map((e) => ({ name: e.name, kind: e.kind, version: e.version, knows: this.idIn(customersOf(e.model), customer) !== undefined }));
    const receipts = (await this.store.records('receipts', key)).map((r) => r.record);
    return { customer, storedAs: key === String(customer) ? undefined : key, events, models, receipts };
  }

  async close(): Promise<void> {
    clearInterval(this.retention);
    clearInterval(this.retrainTimer);
    this.fresh?.stop();
    await this.erasing;
    if (this.owned) await this.store.close();
  }
}
