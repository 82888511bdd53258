// The parts every interaction-trained model stores the same way: its training interactions with their id
// maps, and its constructor options.
import { idProblem, IdMap, type Id } from '../data/ids.js';
import { Interactions } from '../data/interactions.js';
import { csrArrays, writeModelFile, type ModelArray, type ModelFile, type ModelParts } from '../io/modelfile.js';
import type { Model } from './contract.js';

export function interactionParts(data: Interactions): { header: Record<string, unknown>; arrays: Record<string, ModelArray> } {
  return {
    header: { users: data.userCount, items: data.itemCount, ids: { users: [...data.users.ids], items: [...data.items.ids] } },
    arrays: csrArrays('interactions', data.csr),
  };
}

/**
 * The dimensions of the stored interactions, checked against their id lists and array lengths: O(1) checks
 * a kind runs before anything that costs time in the size of the file (id maps, matrix verification).
 */
export function interactionDims(file: ModelFile): { users: number; items: number } {
  const { users, items } = file.fields;
  if (!Number.isInteger(users) || !Number.isInteger(items) || (users as number) < 0 || (items as number) < 0) throw file.corrupt('bad dimensions');
  file.i32('interactions.indptr', (users as number) + 1);
  return { users: users as number, items: items as number };
}

/** The id lists of the header (parsing it whole), checked against the dimensions. */
export function idListsOf(file: ModelFile, users: number, items: number): { users: unknown[]; items: unknown[] } {
  const ids = file.header.ids as { users?: unknown; items?: unknown } | undefined;
  if (!Array.isArray(ids?.users) || ids.users.length !== users || !Array.isArray(ids?.items) || ids.items.length !== items)
    throw file.corrupt('id maps do not match the dimensions');
  return ids as { users: unknown[]; items: unknown[] };
}

/** The interactions of a model file, with id maps checked for shape, the id rule and duplicates. */
export async function interactionsFromFile(file: ModelFile): Promise<Interactions> {
  const { users, items } = interactionDims(file);
  const ids = idListsOf(file, users, items);
  const csr = await file.csr('interactions', users, items, { sortedRows: true });
  return Interactions.fromParts(await idMapOf(file, ids.users, 'user'), await idMapOf(file, ids.items, 'item'), csr);
}

export async function idMapOf(file: ModelFile, ids: unknown[], kind: 'user' | 'item'): Promise<IdMap> {
  for (let i = 0; i < ids.length; i++) {
    const problem = idProblem(ids[i]);
    if (problem !== undefined) throw file.corrupt(`${kind} id ${i}: ${problem}`);
  }
  const map = new IdMap(ids as Id[], kind);
  await map.buildIndex();
  if (map.hasDuplicates()) throw file.corrupt(`duplicate ${kind} ids`);
  return map;
}

/** The options object a model was built with. */
export function optionsOf(file: ModelFile): Record<string, unknown> {
  const o = file.fields.options;
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw file.corrupt('options missing');
  return o as Record<string, unknown>;
}

/** Runs a kind's constructor on file contents: any rejection is the file's fault. */
export function fromFile<T>(file: ModelFile, build: () => T): T {
  try {
    return build();
  } catch (err) {
    throw file.corrupt((err as Error).message);
  }
}

/** A model's parts with its training metadata: what a file stores and a hybrid embeds. */
export function partsWithMeta(model: Model): ModelParts {
  return { ...model.toParts(), ...(model.metadata ? { meta: model.metadata as unknown as Record<string, unknown> } : {}) };
}

/** Writes a model to a file atomically, with its metadata (each kind's save()). */
export async function saveParts(model: Model, path: string): Promise<void> {
  await writeModelFile(path, partsWithMeta(model));
}

/** A Float64Array of the file, checked finite (float64 arrays are small: coefficients, counts, scales). */
export function finite64(file: ModelFile, name: string, length?: number): Float64Array {
  const a = file.f64(name, length);
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) throw file.corrupt(`${name}[${i}] is not finite`);
  return a;
}
