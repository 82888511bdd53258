// Model files for every kind: loadModel reads the frame with the codec and hands it to the class of its kind.
// The kinds are listed here rather than registering themselves on import: with `sideEffects: false` a
// bundler may drop a module imported only for its side effect, and loadModel would then not know a kind.
import { AffinityError, ErrorCode } from '../core/errors.js';
import { readModelFile, writeModelFile, type LoadOptions } from '../io/modelfile.js';
import { ALS } from './als.js';
import { ContentRecommender } from './content.js';
import type { Model, ModelKind, Recommender } from './contract.js';
import { ItemKNN, UserKNN } from './knn.js';
import { MostPopular } from './popular.js';

const KINDS: ReadonlyMap<string, ModelKind> = new Map([ALS, ItemKNN, UserKNN, MostPopular, ContentRecommender].map((k) => [k.kind, k]));

/** The kinds a model file may hold. */
export const MODEL_KINDS: readonly string[] = [...KINDS.keys()];

/** Loads a model saved by `save()`/`saveModel`, verifying it first. */
export async function loadModel(path: string, options: LoadOptions = {}): Promise<Recommender> {
  const file = await readModelFile(path, options);
  const kind = KINDS.get(file.kind);
  if (!kind) throw file.corrupt(`unknown model kind ${JSON.stringify(file.kind)} (this build reads ${MODEL_KINDS.join(', ')})`);
  return (await kind.fromParts(file)) as Recommender;
}

/** Writes a fitted model atomically (the same as `model.save(path)`). */
export async function saveModel(model: Model, path: string): Promise<void> {
  if (model === null || typeof model !== 'object' || typeof model.toParts !== 'function') throw new AffinityError('saveModel needs an Affinity model', ErrorCode.BadInput);
  await writeModelFile(path, model.toParts());
}
