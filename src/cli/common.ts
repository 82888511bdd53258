// What several commands share: argument parsing helpers, reading a data file, training a model.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { AffinityError, ErrorCode } from '../core/errors.js';
import { Interactions, type ValueTransform } from '../data/interactions.js';
import type { RowFilter } from '../io/transactionfile.js';
import { ALS } from '../models/als.js';
import type { Recommender } from '../models/contract.js';
import { ItemKNN, UserKNN } from '../models/knn.js';
import type { Measure } from '../models/similarity.js';

/** A command of the `affinity` CLI: its help text and what it does (the exit code). */
export interface Command {
  readonly help: string;
  run(args: string[]): Promise<number>;
}

export function usage(message: string): AffinityError {
  return new AffinityError(message, ErrorCode.BadInput);
}

export function progressBar(label: string): (f: number) => void {
  if (!process.stderr.isTTY) return () => {};
  return (f) => {
    const width = 30;
    const done = Math.round(f * width);
    process.stderr.write(`\r${label} [${'#'.repeat(done)}${'.'.repeat(width - done)}] ${(f * 100).toFixed(0)}%${f >= 1 ? '\n' : ''}`);
  };
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
} as const;

export async function loadData(values: Record<string, unknown>): Promise<Interactions> {
  const path = values.data as string | undefined;
  if (!path) throw usage('--data is required');
  if (!/\.(csv|tsv|data|txt)(\.gz)?$/i.test(path)) {
    const isDir = await stat(path).then((s) => s.isDirectory(), () => false);
    if (!isDir) throw new AffinityError(`${path}: not a format the CLI reads: .csv, .tsv, .data or .txt (optionally .gz), or a directory of .npy files`, ErrorCode.BadInput);
    return Interactions.loadNpy(path);
  }
  const parts = values.columns ? String(values.columns).split(',') : undefined;
  const col = (s: string | undefined) => (s === undefined ? undefined : /^\d+$/.test(s) ? Number(s) : s);
  const columns = parts ? { user: col(parts[0])!, item: col(parts[1])!, value: col(parts[2]), timestamp: col(parts[3]) } : undefined;
  const data = await Interactions.fromFile(path, {
    columns,
    header: values.header ? true : undefined,
    where: whereOf(values.where),
    delimiter: values.delimiter as string | undefined,
    skipInvalid: values['skip-invalid'] === true,
    value: values.value as ValueTransform | undefined,
    onProgress: progressBar('reading'),
  });
  if (data.skippedLines || data.filteredLines)
    console.error(`read ${path}: ${data.skippedLines} invalid lines skipped, ${data.filteredLines} left out by --where`);
  return data;
}

export async function trainModel(kind: string, values: Record<string, unknown>, data: Interactions): Promise<Recommender> {
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
    return model.fit(data, {
      onProgress: progressBar('als'),
      onIteration: (i, loss) => console.error(`iteration ${i + 1}: loss ${loss.toExponential(4)}`),
    });
  }
  if (kind !== 'itemknn' && kind !== 'userknn') throw usage(`unknown model kind '${kind}' (als, itemknn or userknn)`);
  const options = { k: num(values.neighbours, 'neighbours'), measure: values.measure as Measure | undefined, threads };
  const model = kind === 'userknn' ? new UserKNN(options) : new ItemKNN(options);
  return model.fit(data, { onProgress: progressBar(kind) });
}
