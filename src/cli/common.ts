// What several commands share: argument parsing helpers, reading a data file, training a model.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { AffinityError, ErrorCode } from '../core/errors.js';
import { Interactions, VALUE_TRANSFORMS, type ValueTransform } from '../data/interactions.js';
import { progress } from './progress.js';
import type { RowFilter } from '../io/transactionfile.js';
import { ALS } from '../models/als.js';
import type { Recommender } from '../models/contract.js';
import { ItemKNN, UserKNN } from '../models/knn.js';
import { BPR } from '../models/bpr.js';
import { EASE } from '../models/ease.js';
import type { Measure } from '../models/similarity.js';

/** A command of the `affinity` CLI: its help text and what it does (the exit code). */
export interface Command {
  readonly help: string;
  run(args: string[]): Promise<number>;
}

export function usage(message: string): AffinityError {
  return new AffinityError(message, ErrorCode.BadInput);
}

/** The file's name, size and SHA-256, for a model's training metadata. */
export async function fileDigest(path: string): Promise<{ file: string; bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { file: basename(path), bytes, sha256: hash.digest('hex') };
}

export function num(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw usage(`--${name} must be a number`);
  return n;
}

/** A markdown table, as summaries print them. */
export const table = (head: string[], rows: (string | number)[][]): string =>
  [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

/** Three decimals, or n/a. */
export const f3 = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');

/** The options of every command that reads an interactions file, for its help. */
export const DATA_HELP = `  --data FILE              interactions: .csv, .tsv, .data or .txt (optionally .gz), .parquet, .arrow
                           (Arrow IPC), or a directory of .npy files
  --columns U,I[,V[,T]]    user, item, value and timestamp columns: header names or 0-based positions
                           (default 0,1,2 and no timestamp; value 1 when there is no value column)
  --header                 the first line names the columns (implied by names in --columns; detected
                           when the value column is text or the names are user,item)
  --value raw|binary|count|log1p   a pair's value: summed values (default), 1, its number of rows, log(1 + sum)
  --where JSON             keep rows meeting conditions, e.g. '{"Quantity":{"gt":0}}' (as for train)
  --delimiter C            default , (tab for .tsv and .data); \\t for tab
  --skip-invalid           skip malformed lines (counted) instead of failing on the first
  --threads N              compute threads (default: all cores)`;

/** ALS and KNN training options with their defaults, for the help of train, eval and recommend. */
export const TRAINING_HELP = `  --factors N              ALS latent dimensions (default 64)
  --iterations N           ALS sweeps (default 15)
  --regularization X       ALS L2 penalty (default 0.01 implicit, 0.1 explicit)
  --alpha X                ALS implicit confidence 1 + alpha * value (default 1)
  --feedback implicit|explicit   ALS: purchases and clicks (default) or ratings
  --lambda X               EASE L2 penalty (default 250)
  --keep N                 EASE: keep the N largest weights per item (default 0: all, exact)
  --epochs N               BPR passes over the data (default 100)
  --learning-rate X        BPR SGD step (default 0.05); --factors and --regularization apply too
  --neighbours N           KNN neighbours per item or user (default 50)
  --measure NAME           KNN similarity: cosine (default), pearson, jaccard, dot, lift`;

export const COMMON = {
  help: { type: 'boolean' },
  data: { type: 'string' },
  columns: { type: 'string' },
  header: { type: 'boolean' },
  measure: { type: 'string' },
  weighting: { type: 'string' },
  threads: { type: 'string' },
  'skip-invalid': { type: 'boolean' },
  where: { type: 'string' },
  delimiter: { type: 'string' },
  value: { type: 'string' },
} as const;

/** --where '{"Quantity":{"gt":0},"InvoiceNo":{"notStartsWith":"C"}}': row conditions as JSON. */
export function whereOf(v: unknown): RowFilter | undefined {
  if (v === undefined) return undefined;
  try {
    const parsed = JSON.parse(String(v));
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    return parsed as RowFilter;
  } catch (err) {
    throw usage(`--where must be a JSON object of column conditions, e.g. '{"Quantity":{"gt":0}}' (${(err as Error).message})`);
  }
}

export const TRAINING = {
  factors: { type: 'string' },
  iterations: { type: 'string' },
  regularization: { type: 'string' },
  alpha: { type: 'string' },
  feedback: { type: 'string' },
  neighbours: { type: 'string' },
  lambda: { type: 'string' },
  keep: { type: 'string' },
  epochs: { type: 'string' },
  'learning-rate': { type: 'string' },
} as const;

export async function loadData(values: Record<string, unknown>): Promise<Interactions> {
  checkDataOptions(values);
  const path = values.data as string;
  if (!/\.(csv|tsv|data|txt)(\.gz)?$|\.(parquet|arrows?|feather|ipc)$/i.test(path)) {
    const isDir = await stat(path).then((s) => s.isDirectory(), () => false);
    if (!isDir) throw new AffinityError(`${path}: not a format the CLI reads: .csv, .tsv, .data or .txt (optionally .gz), .parquet, .arrow (Arrow IPC), or a directory of .npy files`, ErrorCode.BadInput);
    return Interactions.loadNpy(path);
  }
  const parts = values.columns ? String(values.columns).split(',') : undefined;
  const col = (s: string | undefined) => (s === undefined ? undefined : /^\d+$/.test(s) ? Number(s) : s);
  const columns = parts ? { user: col(parts[0])!, item: col(parts[1])!, value: col(parts[2]), timestamp: col(parts[3]) } : undefined;
  const data = await Interactions.fromFile(path, {
    columns,
    header: values.header ? true : undefined,
    ...dataOptions(values),
    skipInvalid: values['skip-invalid'] === true,
    onProgress: progress.bar('reading'),
  });
  if (data.skippedLines || data.filteredLines)
    console.error(`read ${path}: ${data.skippedLines} invalid lines skipped, ${data.filteredLines} left out by --where`);
  return data;
}

/**
 * A recommender of a kind, built from the options (which are checked here, so a typo fails before a large
 * file is read) and trained on demand, with progress and loss lines on stderr.
 */
export function prepareModel(kind: string, values: Record<string, unknown>): { fit(data: Interactions): Promise<Recommender> } {
  const threads = num(values.threads, 'threads');
  if (kind === 'als') {
    const model = new ALS({
      factors: num(values.factors, 'factors'),
      iterations: num(values.iterations, 'iterations'),
      regularization: num(values.regularization, 'regularization'),
      alpha: num(values.alpha, 'alpha'),
      feedback: values.feedback as 'implicit' | undefined,
      threads,
    });
    return {
      fit: (data) => model.fit(data, { onProgress: progress.bar('als'), onIteration: (i, loss) => progress.log(`iteration ${i + 1}: loss ${loss.toExponential(4)}`) }),
    };
  }
  if (kind === 'ease') {
    const model = new EASE({ lambda: num(values.lambda, 'lambda'), keep: num(values.keep, 'keep'), threads });
    return { fit: (data) => model.fit(data, { onProgress: progress.bar('ease') }) };
  }
  if (kind === 'bpr') {
    const model = new BPR({ factors: num(values.factors, 'factors'), epochs: num(values.epochs, 'epochs'), learningRate: num(values['learning-rate'], 'learning-rate'), regularization: num(values.regularization, 'regularization'), threads });
    return {
      fit: (data) => model.fit(data, { onProgress: progress.bar('bpr'), onIteration: (e, correct) => progress.log(`epoch ${e}: ${(100 * correct).toFixed(1)}% of sampled pairs ranked right`) }),
    };
  }
  if (kind !== 'itemknn' && kind !== 'userknn') throw usage(`unknown model kind '${kind}' (als, bpr, ease, itemknn or userknn)`);
  const options = { k: num(values.neighbours, 'neighbours'), measure: values.measure as Measure | undefined, threads };
  const model = kind === 'userknn' ? new UserKNN(options) : new ItemKNN(options);
  return { fit: (data) => model.fit(data, { onProgress: progress.bar(kind) }) };
}

export async function trainModel(kind: string, values: Record<string, unknown>, data: Interactions): Promise<Recommender> {
  return prepareModel(kind, values).fit(data);
}

/** The options of reading an interactions file, checked before anything is read. */
function dataOptions(values: Record<string, unknown>) {
  const value = values.value as ValueTransform | undefined;
  if (value !== undefined && !VALUE_TRANSFORMS.includes(value)) throw usage(`--value must be one of ${VALUE_TRANSFORMS.join(', ')}, got '${value}'`);
  const delimiter = values.delimiter as string | undefined;
  if (delimiter !== undefined && delimiter !== '\\t' && delimiter.length !== 1) throw usage('--delimiter must be one character (\\t for tab)');
  return { where: whereOf(values.where), value, delimiter: delimiter === '\\t' ? '\t' : delimiter };
}

/** Checks every data option before a command reads (and perhaps trains on) a large file. */
export function checkDataOptions(values: Record<string, unknown>): void {
  if (!values.data) throw usage('--data is required');
  dataOptions(values);
}
