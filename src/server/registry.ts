// The models a server holds, by name. Each name points at one immutable entry; a reload builds a new
// entry off to the side, checks it, and swaps the pointer in one step. Requests keep the entry they
// started with, so in-flight work finishes on the old model.
import { AffinityError, ErrorCode } from '../core/errors.js';
import type { Recommender } from '../models/contract.js';
import { basename } from 'node:path';
import { removeStaleTemps } from '../io/files.js';
import { loadModel } from '../models/files.js';
import { MostPopular } from '../models/popular.js';

/** A model kind's name ('als', 'itemknn', ...): see MODEL_KINDS. */
export type ModelKind = string;

export interface ModelEntry {
  readonly name: string;
  readonly kind: ModelKind;
  readonly model: Recommender;
  readonly version: number;
  readonly path?: string;
  readonly loadedAt: Date;
  /** The fallback for users the model does not know: the most popular items of its training data (none when it keeps no interactions). */
  readonly popular?: Recommender;
}

/** A most-popular model over the same users and items (the model itself when it is one). */
function popularOf(model: Recommender): Recommender | undefined {
  if (model.kind === MostPopular.kind) return model;
  return model.data ? MostPopular.of(model.data) : undefined;
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

  /**
   * @param defaultName the model requests without a name get
   * @param reloadTimeoutMs how long a load or reload may take before it is given up (default 120 s)
   */
  constructor(
    readonly defaultName?: string,
    readonly reloadTimeoutMs = 120_000,
  ) {}

  /** Adds (or replaces) a model under a name; version counts up from 1. */
  add(name: string, model: Recommender, path?: string): ModelEntry {
    if (model === null || typeof model !== 'object' || typeof model.recommend !== 'function' || typeof model.kind !== 'string')
      throw new AffinityError('a served model must be an Affinity recommender', ErrorCode.Unsupported);
    const entry: ModelEntry = {
      name,
      kind: model.kind,
      model,
      version: (this.entries.get(name)?.version ?? 0) + 1,
      path,
      loadedAt: new Date(),
      popular: popularOf(model),
    };
    this.entries.set(name, entry);
    return entry;
  }

  /**
   * Loads a model file and adds it (verification included: see loadModel). Files are read, not mapped:
   * an operator may overwrite a served file in place, which would fault a mapping.
   */
  async load(name: string, path: string): Promise<ModelEntry> {
    await removeStaleTemps(path); // what saves killed mid-write (kill -9) left beside the file
    const model = await this.read(name, path);
    return this.add(name, model, path);
  }

  /**
   * Reads and warms up a model file within the reload timeout. Errors name the model and the file's base
   * name, never the server's directory layout (clients see these messages).
   */
  private async read(name: string, path: string): Promise<Recommender> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new AffinityError(`model ${name}: reading ${basename(path)} did not finish within ${this.reloadTimeoutMs / 1000} s`, ErrorCode.Busy)),
        this.reloadTimeoutMs,
      );
    });
    try {
      return await Promise.race([loadModel(path, { mmap: false }).then(async (m) => (await warmUp(m), m)), timeout]);
    } catch (err) {
      if (!(err instanceof AffinityError)) throw err;
      throw new AffinityError(`model ${name}: ${err.message.split(path).join(basename(path))}`, err.code, { cause: err });
    } finally {
      clearTimeout(timer);
    }
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
      const model = await this.read(name, current.path);
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
async function warmUp(model: Recommender): Promise<void> {
  await model.prepare?.();
  if (model.users.size > 0) model.recommend(model.users.ids[0], { k: 1 });
}
