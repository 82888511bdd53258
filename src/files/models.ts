// Model files for every kind: loadModel reads the frame with the codec and hands it to the class of its kind.
// The kinds are listed here rather than registering themselves on import: with `sideEffects: false` a
// bundler may drop a module imported only for its side effect, and loadModel would then not know a kind.
import { basename } from 'node:path';
import { AffinityError, ErrorCode } from '../core/errors.js';
import { readModelFile, type ArrayInfo, type LoadOptions, type ModelFile } from '../io/modelfile.js';
import { PropensityScorer } from '../analytics/churn.js';
import { Bandit } from '../analytics/bandit.js';
import { TabularAgent } from '../analytics/qlearning.js';
import { BetaGeo, GammaGamma, ParetoNBD } from '../analytics/clv.js';
import { LifetimeValueModel } from '../analytics/lifetime.js';
import { LogisticRegression } from '../analytics/logistic.js';
import { DecisionTree, RandomForest } from '../analytics/trees.js';
import { UpliftModel } from '../analytics/uplift.js';
import { CoPurchaseRules } from '../analytics/rules.js';
import { Segmentation } from '../analytics/segments.js';
import { ALS } from '../models/als.js';
import { BPR } from '../models/bpr.js';
import { EASE } from '../models/ease.js';
import { ContentRecommender } from '../models/content.js';
import { isRecommender, type Model, type ModelKind, type Recommender, type TrainingMetadata } from '../models/contract.js';
import { HybridRecommender } from '../models/hybrid.js';
import { ItemKNN, UserKNN } from '../models/knn.js';
import { MostPopular } from '../models/popular.js';
import { saveParts } from '../models/parts.js';

const CLASSES = [ALS, BPR, EASE, ItemKNN, UserKNN, MostPopular, ContentRecommender, HybridRecommender, Segmentation, PropensityScorer, CoPurchaseRules, LogisticRegression, BetaGeo, ParetoNBD, GammaGamma, LifetimeValueModel, DecisionTree, RandomForest, UpliftModel, Bandit, TabularAgent] as const;
const KINDS: ReadonlyMap<string, ModelKind> = new Map(CLASSES.map((k) => [k.kind, k as ModelKind]));

/** Any model a file may hold; narrow on `kind` (or instanceof). */
export type AnyModel = InstanceType<(typeof CLASSES)[number]>;

/** The kinds a model file may hold. */
export const MODEL_KINDS: readonly string[] = [...KINDS.keys()];

/** How deep models may nest inside one another (a hybrid holds two): a crafted file cannot recurse for ever. */
const MAX_DEPTH = 4;

async function fromFile(file: ModelFile, depth: number): Promise<AnyModel> {
  const kind = KINDS.get(file.kind);
  if (!kind) throw file.corrupt(`unknown model kind ${JSON.stringify(file.kind)} (this build reads ${MODEL_KINDS.join(', ')})`);
  if (depth > MAX_DEPTH) throw file.corrupt(`models nest more than ${MAX_DEPTH} deep`);
  const model = (await kind.fromParts(file, (part) => fromFile(part, depth + 1))) as AnyModel;
  model.metadata = file.meta as unknown as TrainingMetadata | undefined; // what the file says, not what loading did
  return model;
}

/** Loads a model saved by `save()`/`saveModel`, whatever its kind, verifying it first. */
export async function loadModel(path: string, options: LoadOptions = {}): Promise<AnyModel> {
  return fromFile(await readModelFile(path, options), 0);
}

/** loadModel for callers that need a recommender: a file of another kind is ERR_AFFINITY_UNSUPPORTED. */
export async function loadRecommender(path: string, options: LoadOptions = {}): Promise<Recommender> {
  const model = await loadModel(path, options);
  if (!isRecommender(model)) throw new AffinityError(`${basename(path)} holds a ${model.kind} model, which does not recommend items to users`, ErrorCode.Unsupported);
  return model;
}

/** Writes a fitted model atomically (the same as `model.save(path)`). */
export async function saveModel(model: Model, path: string): Promise<void> {
  if (model === null || typeof model !== 'object' || typeof model.toParts !== 'function') throw new AffinityError('saveModel needs an Affinity model', ErrorCode.BadInput);
  await saveParts(model, path);
}

/** What describeModel tells about a file. */
export interface ModelDescription {
  kind: string;
  formatVersion: number;
  bytes: number;
  /** The kind's small fields: dimensions, options, parameters (id lists and other large fields left out). */
  fields: Record<string, unknown>;
  metadata?: TrainingMetadata;
  arrays: Record<string, ArrayInfo>;
  /** The models inside this one (a hybrid's parts). */
  parts: Record<string, ModelDescription>;
}

/** Kind, version, sizes and training metadata of a model file, verified but without building the model. */
export async function describeModel(path: string): Promise<ModelDescription> {
  return describe(await readModelFile(path), 0);
}

function describe(file: ModelFile, depth: number): ModelDescription {
  if (depth > MAX_DEPTH) throw file.corrupt(`models nest more than ${MAX_DEPTH} deep`);
  // meta and parts are told apart below; id lists and other long fields are left out.
  const small = Object.fromEntries(Object.entries(file.fields).filter(([k, v]) => !['ids', 'meta', 'parts'].includes(k) && JSON.stringify(v).length <= 4096));
  return {
    kind: file.kind,
    formatVersion: file.version,
    bytes: file.bytes,
    fields: small,
    ...(file.meta ? { metadata: file.meta as unknown as TrainingMetadata } : {}),
    arrays: file.arrays(),
    parts: Object.fromEntries(file.partNames().map((name) => [name, describe(file.part(name), depth + 1)])),
  };
}
