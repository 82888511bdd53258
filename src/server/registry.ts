// The models a server holds, by name. Each name points at one immutable entry; a reload builds a new
// entry off to the side, checks it, and swaps the pointer in one step. Requests keep the entry they
// started with, so in-flight work finishes on the old model.
import { ALS } from '../als.js';
import { AffinityError, ErrorCode } from '../errors.js';
import type { Id } from '../ids.js';
import type { Interactions } from '../interactions.js';
import { ItemKNN, UserKNN } from '../knn.js';
import { loadModel, type Model } from '../modelfile.js';

export type ModelKind = 'als' | 'itemknn' | 'userknn';

export interface ModelEntry {
  readonly name: string;
  readonly kind: ModelKind;
  readonly model: Model;
  readonly data: Interactions;
  readonly version: number;
  readonly path?: string;
  readonly loadedAt: Date;
  /** Most interacted-with items first: the fallback for unknown users. */
  readonly popular: Id[];
}

function kindOf(model: Model): ModelKind {
  if (model instanceof ALS) return 'als';
  if (model instanceof ItemKNN) return 'itemknn';
  if (model instanceof UserKNN) return 'userknn';
  throw new AffinityError('unsupported model object', ErrorCode.Unsupported);
}

function dataOf(model: Model): Interactions {
  return model instanceof ALS ? model.data : model.parts().data;
}

function popularItems(data: Interactions, limit = 1000): Id[] {
  return Array.from(data.itemsByPopularity().subarray(0, limit), (i) => data.items.ids[i]);
}

export interface ReloadEvent {
  name: string;
  ok: boolean;
  version?: number;
  error?: Error;
}

export class ModelRegistry {
  private readonly entries = new Map<string, ModelEntry>();
  private readonly reloading = new Set<string>();
  readonly reloadFailures = new Map<string, number>();
  onReload?: (e: ReloadEvent) => void;

  constructor(readonly defaultName?: string) {}

  /** Adds (or replaces) a model under a name; version counts up from 1. */
  add(name: string, model: Model, path?: string): ModelEntry {
    const data = dataOf(model);
    const entry: ModelEntry = {
      name,
      kind: kindOf(model),
      model,
      data,
      version: (this.entries.get(name)?.version ?? 0) + 1,
      path,
      loadedAt: new Date(),
      popular: popularItems(data),
    };
    this.entries.set(name, entry);
    return entry;
  }

  /**
   * Loads a model file and adds it (verification included: see loadModel). Files are read, not mapped:
   * an operator may overwrite a served file in place, which would fault a mapping.
   */
  async load(name: string, path: string): Promise<ModelEntry> {
    const model = await loadModel(path, { mmap: false });
    await warmUp(model);
    return this.add(name, model, path);
  }

  get size(): number {
    return this.entries.size;
  }

  list(): ModelEntry[] {
    return [...this.entries.values()];
  }

  get(name?: string): ModelEntry {
    const key = name ?? this.defaultName ?? this.entries.keys().next().value;
    const entry = key === undefined ? undefined : this.entries.get(key);
    if (!entry) throw new AffinityError(`unknown model ${JSON.stringify(name ?? key ?? '')}`, ErrorCode.UnknownModel);
    return entry;
  }

  /** Re-reads a model's file; on any failure the current model keeps serving and the error is reported. */
  async reload(name: string): Promise<ModelEntry> {
    const current = this.get(name);
    if (!current.path) throw new AffinityError(`model ${name} was not loaded from a file`, ErrorCode.Unsupported);
    if (this.reloading.has(name)) throw new AffinityError(`model ${name} is already reloading`, ErrorCode.Busy);
    this.reloading.add(name);
    try {
      const model = await loadModel(current.path, { mmap: false });
      await warmUp(model);
      if (this.entries.get(name) !== current) throw new AffinityError(`model ${name} changed during the reload`, ErrorCode.Busy);
      const entry = this.add(name, model, current.path);
      this.onReload?.({ name, ok: true, version: entry.version });
      return entry;
    } catch (err) {
      this.reloadFailures.set(name, (this.reloadFailures.get(name) ?? 0) + 1);
      this.onReload?.({ name, ok: false, error: err as Error });
      throw err;
    } finally {
      this.reloading.delete(name);
    }
  }
}

/**
 * Builds the model's scoring structures off the event loop, then runs a query against it before it serves:
 * a broken model fails here, not on a customer.
 */
async function warmUp(model: Model): Promise<void> {
  if (model instanceof ALS) await model.prepare();
  const data = dataOf(model);
  if (data.userCount > 0) model.recommend(data.users.ids[0], { k: 1 });
}

/**
 * Finds a caller's id in a model's id map. JSON cannot tell "42" from 42, so each falls back to the other
 * spelling. Returns undefined when neither is known.
 */
export function resolveId(ids: { has(id: Id): boolean }, id: Id): Id | undefined {
  if (ids.has(id)) return id;
  const other = typeof id === 'number' ? String(id) : /^-?\d+(\.\d+)?$/.test(id) ? Number(id) : undefined;
  return other !== undefined && ids.has(other) ? other : undefined;
}
