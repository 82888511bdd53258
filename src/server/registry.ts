// The models a server holds, by name. Each name points at one immutable entry; a reload builds a new
// entry off to the side, checks it, and swaps the pointer in one step. Requests keep the entry they
// started with, so in-flight work finishes on the old model.
import { AffinityError, ErrorCode } from '../core/errors.js';
import { isRecommender, type Model, type Recommender } from '../models/contract.js';
import { basename } from 'node:path';
import { removeStaleTemps } from '../io/files.js';
import { loadModel } from '../files/models.js';
import { MostPopular } from '../models/popular.js';
import { Catalog } from '../data/catalog.js';

/** A model kind's name ('als', 'itemknn', ...): see MODEL_KINDS. */
export type ModelKind = string;

/** Stands for "any kind that recommends" in ofKind. */
export const RECOMMENDS = Symbol('recommends');

export interface ModelEntry<M extends Model = Model> {
  readonly name: string;
  readonly kind: ModelKind;
  readonly model: M;
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

/** Models (and a catalogue) read for a reload, not yet served: see prepareReload. */
export interface PreparedReload {
  models: { entry: ModelEntry; model: Model }[];
  catalog?: Catalog;
}

/** The product catalogue a server joins into answers and filters on; reloadable like a model. */
export interface CatalogEntry {
  readonly catalog: Catalog;
  readonly version: number;
  readonly path?: string;
  readonly loadedAt: Date;
}

export class ModelRegistry {
  private readonly entries = new Map<string, ModelEntry>();
  /** The catalogue, when the server has one. */
  catalog?: CatalogEntry;
  private readonly reloading = new Set<string>();
  readonly reloadFailures = new Map<string, number>();
  onReload?: (e: ReloadEvent) => void;
  /**
   * Map model files instead of reading them (default false): processes serving the same files then share
   * one copy in the page cache. Files must then be replaced by rename (as every Affinity writer does),
   * never overwritten in place, which would fault the mapping. `affinity serve --workers` turns it on.
   */
  mapFiles = false;
  /** Set in a worker of `affinity serve --workers`: reloads go through the primary, to every worker or none. */
  coordinator?: { reloadAll(): Promise<void> };

  /**
   * @param defaultName the model requests without a name get
   * @param reloadTimeoutMs how long a load or reload may take before it is given up (default 120 s)
   */
  constructor(
    readonly defaultName?: string,
    readonly reloadTimeoutMs = 120_000,
  ) {}

  /** Adds (or replaces) a model of any kind under a name; version counts up from 1. */
  add(name: string, model: Model, path?: string): ModelEntry {
    if (model === null || typeof model !== 'object' || typeof model.kind !== 'string' || typeof model.toParts !== 'function')
      throw new AffinityError('a served model must be an Affinity model', ErrorCode.Unsupported);
    const entry: ModelEntry = {
      name,
      kind: model.kind,
      model,
      version: (this.entries.get(name)?.version ?? 0) + 1,
      path,
      loadedAt: new Date(),
      popular: isRecommender(model) ? popularOf(model) : undefined,
    };
    this.entries.set(name, entry);
    return entry;
  }

  /**
   * Loads a model file and adds it (verification included: see loadModel). Files are read, not mapped,
   * unless `mapFiles`: an operator may overwrite a served file in place, which would fault a mapping.
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
  private async read(name: string, path: string): Promise<Model> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new AffinityError(`model ${name}: reading ${basename(path)} did not finish within ${this.reloadTimeoutMs / 1000} s`, ErrorCode.Busy)),
        this.reloadTimeoutMs,
      );
    });
    try {
      return await Promise.race([loadModel(path, { mmap: this.mapFiles }).then(async (m) => (await warmUp(m), m)), timeout]);
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

  /** Installs a catalogue (replacing the one served); version counts up from 1. */
  setCatalog(catalog: Catalog, path?: string): CatalogEntry {
    if (!(catalog instanceof Catalog)) throw new AffinityError('the catalogue must be a Catalog', ErrorCode.BadInput);
    this.catalog = { catalog, path, version: (this.catalog?.version ?? 0) + 1, loadedAt: new Date() };
    return this.catalog;
  }

  /** Reads a catalogue file and serves it; on failure the current catalogue keeps serving. */
  async loadCatalog(path: string): Promise<CatalogEntry> {
    try {
      return this.setCatalog(await Catalog.fromFile(path), path);
    } catch (err) {
      this.reloadFailures.set('catalog', (this.reloadFailures.get('catalog') ?? 0) + 1);
      if (!(err instanceof AffinityError)) throw err;
      throw new AffinityError(`catalogue: ${err.message.split(path).join(basename(path))}`, err.code, { cause: err });
    }
  }

  /** Re-reads the catalogue's file. */
  async reloadCatalog(): Promise<CatalogEntry> {
    const path = this.catalog?.path;
    if (!path) throw new AffinityError('the catalogue was not loaded from a file', ErrorCode.Unsupported);
    try {
      const entry = await this.loadCatalog(path);
      this.onReload?.({ name: 'catalog', ok: true, version: entry.version });
      return entry;
    } catch (err) {
      this.onReload?.({ name: 'catalog', ok: false, error: err as Error });
      throw err;
    }
  }

  list(): ModelEntry[] {
    return [...this.entries.values()];
  }

  /** A model by name, whatever its kind. */
  byName(name: string): ModelEntry {
    const entry = this.entries.get(name);
    if (!entry) throw new AffinityError(`unknown model ${JSON.stringify(name)}${this.served()}`, ErrorCode.UnknownModel);
    return entry;
  }

  /** The recommender a request names, or without a name the default one (defaultName, else the first recommender). */
  get(name?: string): ModelEntry<Recommender> {
    if (name === undefined && this.defaultName !== undefined && this.entries.has(this.defaultName)) name = this.defaultName;
    return this.ofKind(RECOMMENDS, name, 'recommender') as ModelEntry<Recommender>;
  }

  /**
   * The model of one of these kinds a request names, or without a name the first one added. Any other
   * answer is ERR_AFFINITY_UNKNOWN_MODEL (404), naming what the server has.
   */
  ofKind(kinds: readonly string[] | typeof RECOMMENDS, name: string | undefined, what: string): ModelEntry {
    const fits = (e: ModelEntry) => (kinds === RECOMMENDS ? isRecommender(e.model) : kinds.includes(e.kind));
    if (name !== undefined) {
      const entry = this.byName(name);
      if (!fits(entry)) throw new AffinityError(`model ${JSON.stringify(name)} is a ${entry.kind} model, not a ${what} model${this.served()}`, ErrorCode.UnknownModel);
      return entry;
    }
    for (const e of this.entries.values()) if (fits(e)) return e;
    throw new AffinityError(`this server has no ${what} model${this.served()}`, ErrorCode.UnknownModel);
  }

  /** ofKind for a model class, typed by it: the model a request names (or the first of the class's kind). */
  ofClass<T>(cls: { kind: string; prototype: T }, name: string | undefined): { name: string; model: T } {
    const entry = this.ofKind([cls.kind], name, cls.kind);
    if (!(entry.model instanceof (cls as unknown as new () => T))) throw new AffinityError(`model ${entry.name} is not a ${cls.kind} model`, ErrorCode.Internal);
    return { name: entry.name, model: entry.model as T };
  }

  private served(): string {
    const all = [...this.entries.values()].map((e) => `${e.name} (${e.kind})`);
    return all.length > 0 ? `; it serves ${all.join(', ')}` : '; it serves no models';
  }

  /**
   * The first half of a reload that must succeed everywhere or nowhere: every file-backed model (and the
   * catalogue) read, verified and warmed up, but not served. Throws on the first that fails.
   */
  async prepareReload(): Promise<PreparedReload> {
    const models: PreparedReload['models'] = [];
    for (const entry of this.list()) {
      if (!entry.path) continue;
      try {
        models.push({ entry, model: await this.read(entry.name, entry.path) });
      } catch (err) {
        this.reloadFailures.set(entry.name, (this.reloadFailures.get(entry.name) ?? 0) + 1);
        this.onReload?.({ name: entry.name, ok: false, error: err as Error });
        throw err;
      }
    }
    const path = this.catalog?.path;
    const catalog = path ? await Catalog.fromFile(path).catch((err) => {
      this.reloadFailures.set('catalog', (this.reloadFailures.get('catalog') ?? 0) + 1);
      throw err instanceof AffinityError ? new AffinityError(`catalogue: ${err.message.split(path).join(basename(path))}`, err.code, { cause: err }) : err;
    }) : undefined;
    return { models, catalog };
  }

  /** The second half: serves what prepareReload read, each model swapped in one step. */
  commitReload(prepared: PreparedReload): ModelEntry[] {
    const out: ModelEntry[] = [];
    for (const { entry, model } of prepared.models) {
      const next = this.add(entry.name, model, entry.path);
      this.onReload?.({ name: entry.name, ok: true, version: next.version });
      out.push(next);
    }
    if (prepared.catalog) {
      const next = this.setCatalog(prepared.catalog, this.catalog?.path);
      this.onReload?.({ name: 'catalog', ok: true, version: next.version });
    }
    return out;
  }

  /** Re-reads a model's file; on any failure the current model keeps serving and the error is reported. */
  async reload(name: string): Promise<ModelEntry> {
    const current = this.byName(name);
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
async function warmUp(model: Model): Promise<void> {
  if (!isRecommender(model)) return; // the other kinds build nothing lazily: their loads checked every array
  await model.prepare?.();
  if (model.users.size > 0) model.recommend(model.users.ids[0], { k: 1 });
}
