// `affinity train` for feature tables: --model tree|forest (a target column) and --model uplift (outcome,
// treatment and control), each checked on a seeded 70/30 split first and then trained on every row.
import { classificationMetrics } from '../analytics/logistic.js';
import { DecisionTree, RandomForest, type ForestOptions } from '../analytics/trees.js';
import { UpliftModel, type UpliftMethod } from '../analytics/uplift.js';
import { FeatureTable } from '../data/featuretable.js';
import type { Model } from '../models/contract.js';
import { f3, num, table, usage } from './common.js';
import { progress } from './progress.js';

export const CAMPAIGN_KINDS = ['tree', 'forest', 'uplift'] as const;

export const CAMPAIGN_OPTIONS = {
  target: { type: 'string' },
  task: { type: 'string' },
  trees: { type: 'string' },
  depth: { type: 'string' },
  'min-leaf': { type: 'string' },
  'max-features': { type: 'string' },
  exclude: { type: 'string' },
  categorical: { type: 'string' },
  id: { type: 'string' },
  seed: { type: 'string' },
  outcome: { type: 'string' },
  treatment: { type: 'string' },
  control: { type: 'string' },
  method: { type: 'string' },
  customers: { type: 'string' },
} as const;

export const CAMPAIGN_HELP = `Campaign models, on a feature table (CSV with a header, may be .gz; one row per customer):
  --model tree|forest      a decision tree or random forest on --target COL
  --model uplift           whom a campaign changes: --outcome COL --treatment COL --control VALUE
  --task classification|regression   tree, forest (default classification)
  --trees N                forest, uplift (default 100)   --depth N   (forest: unlimited, uplift: 8)
  --min-leaf N             --max-features sqrt|log2|all|N|fraction   --seed N
  --method two-model|class-transformation|uplift-forest   uplift (default uplift-forest)
  --exclude a,b            columns kept but never used as features (other outcomes)
  --categorical a,b        numeric-looking columns read as categories (codes, zip codes)
  --id COL                 the customer id column (never a feature)
  --customers FILE         uplift: today's customers (same features, --id column), kept in the model so the
                           server scores them by id`;

const list = (v: unknown) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : undefined);

// The options trees, forests and uplift models share, from the command line.
function sharedOptions(values: Record<string, unknown>, trees: boolean) {
  const mf = values['max-features'];
  return {
    ...(trees && values.trees !== undefined ? { trees: num(values.trees, 'trees') } : {}),
    ...(values.depth !== undefined ? { maxDepth: num(values.depth, 'depth') } : {}),
    ...(values['min-leaf'] !== undefined ? { minSamplesLeaf: num(values['min-leaf'], 'min-leaf') } : {}),
    ...(mf !== undefined ? { maxFeatures: ['sqrt', 'log2', 'all'].includes(mf as string) ? (mf as 'sqrt') : num(mf, 'max-features') } : {}),
    ...(values.seed !== undefined ? { seed: num(values.seed, 'seed') } : {}),
    ...(values.threads !== undefined ? { threads: num(values.threads, 'threads') } : {}),
  };
}

function forestOptions(values: Record<string, unknown>, kind: 'tree' | 'forest'): ForestOptions {
  const task = values.task ?? 'classification';
  if (task !== 'classification' && task !== 'regression') throw usage('--task must be classification or regression');
  return { task, ...sharedOptions(values, kind === 'forest') };
}

export async function trainCampaign(kind: (typeof CAMPAIGN_KINDS)[number], values: Record<string, unknown>): Promise<{ model: Model; summary: string }> {
  const path = values.data as string | undefined;
  if (!path) throw usage('--data is required');
  const roles = kind === 'uplift' ? { target: values.outcome as string | undefined, treatment: values.treatment as string | undefined } : { target: values.target as string | undefined };
  if (kind !== 'uplift' && !roles.target) throw usage(`--target COL is required for ${kind}`);
  if (kind === 'uplift' && (!values.outcome || !values.treatment || values.control === undefined)) throw usage('uplift needs --outcome COL --treatment COL --control VALUE');
  const readOptions = { ...roles, exclude: list(values.exclude), categorical: list(values.categorical), id: values.id as string | undefined, delimiter: values.delimiter as string | undefined };
  // Options fail before the file is read.
  const make = kind === 'uplift' ? () => upliftOf(values) : () => (kind === 'tree' ? new DecisionTree(forestOptions(values, 'tree')) : new RandomForest(forestOptions(values, 'forest')));
  make();
  const data = await FeatureTable.fromFile(path, readOptions);
  progress.log(`data: ${data.rows} rows, features ${data.features.join(', ')}`);
  const [train, test] = data.split(0.7, 1);

  if (kind === 'uplift') {
    const spec = { outcome: values.outcome as string, treatment: values.treatment as string, control: values.control as string };
    const check = await upliftOf(values).fit(train, spec, { onProgress: progress.bar('uplift (70% split)') });
    const report = await check.evaluate(test, spec);
    const model = await upliftOf(values).fit(data, spec, { onProgress: progress.bar('uplift (all rows)') });
    if (typeof values.customers === 'string') model.withCustomers(await FeatureTable.fromFile(values.customers, { id: readOptions.id, delimiter: readOptions.delimiter }));
    model.metadata = { ...model.metadata!, quality: Object.fromEntries(report.flatMap((r) => [[`qini:${r.arm}`, r.qini], [`auuc:${r.arm}`, r.auuc], [`upliftAt30:${r.arm}`, r.upliftAt30]])), holdout: await check.holdoutSample(test, spec) };
    const summary = `${model.method}, arms ${model.arms.join(', ')} against ${model.control}; held-out 30% (seed 1):\n${table(
      ['arm', 'rows', 'Qini coefficient', 'AUUC', 'uplift@30%'],
      report.map((r) => [r.arm, r.rows, f3(r.qini), f3(r.auuc), f3(r.upliftAt30)]),
    )}${model.customers ? `\nkept ${model.customers.ids.size} customers for scoring by id` : ''}`;
    return { model, summary };
  }

  const target = roles.target!;
  const check = (make() as RandomForest | DecisionTree).fit(train, target, { onProgress: progress.bar(`${kind} (70% split)`) });
  const fitted = await check;
  const truth = test.values(target);
  let quality: Record<string, number>;
  if (fitted.task === 'classification') {
    const predicted = await fitted.predictLabels(test);
    const accuracy = predicted.filter((p, i) => p === truth[i]).length / predicted.length;
    quality = { accuracy };
    if (fitted.classes.length === 2) {
      const p = await fitted.predictProba(test);
      quality.rocAuc = classificationMetrics(Array.from(truth, (t) => (t === fitted.classes[1] ? 1 : 0)), p).rocAuc;
    }
  } else {
    const predicted = await fitted.predict(test);
    const y = truth.map(Number);
    const mean = y.reduce((a, b) => a + b, 0) / y.length;
    let sse = 0, sst = 0;
    y.forEach((v, i) => ((sse += (v - predicted[i]) ** 2), (sst += (v - mean) ** 2)));
    quality = { r2: sst > 0 ? 1 - sse / sst : NaN };
  }
  const model = await (make() as RandomForest | DecisionTree).fit(data, target, { onProgress: progress.bar(`${kind} (all rows)`) });
  if (model instanceof RandomForest) quality.oobScore = model.oobScore;
  model.metadata = { ...model.metadata!, quality };
  const importance = Array.from(model.featureImportances, (v, d) => [model.featureNames[d], f3(v)] as [string, string])
    .sort((a, b) => Number(b[1]) - Number(a[1]))
    .slice(0, 10);
  const summary = [
    `${kind} on ${target} (${model.task}), held-out 30% (seed 1): ${Object.entries(quality).map(([k, v]) => `${k} ${f3(v)}`).join(', ')}`,
    table(['feature', 'importance'], importance),
    kind === 'tree' ? model.describe({ depth: 3 }) : '',
  ]
    .filter(Boolean)
    .join('\n');
  return { model, summary };
}

function upliftOf(values: Record<string, unknown>): UpliftModel {
  const method = (values.method ?? 'uplift-forest') as UpliftMethod;
  if (!['two-model', 'class-transformation', 'uplift-forest'].includes(method)) throw usage('--method must be two-model, class-transformation or uplift-forest');
  return new UpliftModel({ method, ...sharedOptions(values, true) });
}
