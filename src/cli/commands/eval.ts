import { parseArgs } from 'node:util';
import { stat } from 'node:fs/promises';
import { ALL_METRICS, evaluate, kFold, split, type Evaluation, type Metric } from '../../eval/evaluate.js';
import type { Interactions } from '../../data/interactions.js';
import { MostPopular } from '../../models/popular.js';
import type { Recommender } from '../../models/contract.js';
import { checkDataOptions, COMMON, DATA_HELP, fileDigest, loadData, num, prepareModel, TRAINING, TRAINING_HELP, usage, type Command } from '../common.js';
import { progress } from '../progress.js';

const STRATEGIES = ['random', 'leave-last-out', 'time'] as const;

export const evalCommand: Command = {
  help: `usage: affinity eval --data FILE --model als|itemknn|userknn|popular [options]

  --model KIND                             default als
  --strategy random|leave-last-out|time   default random (per user, seeded)
  --test-fraction X                        default 0.2
  --folds N                                k-fold cross-validation instead of one split: mean and
                                           standard deviation over N folds (2..100; random strategy)
  --k N                                    default 10
  --metrics LIST                           comma-separated, default all: ${ALL_METRICS.join(', ')}
                                           (auc scores every item for every user: the slow one)
  --seed N                                 default 42
  --out FILE                               save the evaluated model (trained on the training split)
                                           with these figures in its metadata (quality); not with --folds
${TRAINING_HELP}
${DATA_HELP}`,
  async run(args) {
    const { values } = parseArgs({
      args,
      options: { ...COMMON, ...TRAINING, model: { type: 'string' }, strategy: { type: 'string' }, 'test-fraction': { type: 'string' }, k: { type: 'string' }, out: { type: 'string' }, metrics: { type: 'string' }, folds: { type: 'string' }, seed: { type: 'string' } },
    });
    if (values.help) return console.log(this.help), 0;
    // Every option is checked before the data is read.
    checkDataOptions(values);
    const kind = values.model ?? 'als';
    const trainer = kind === 'popular' ? { fit: (d: Interactions): Promise<Recommender> => new MostPopular().fit(d) } : prepareModel(kind, values);
    const strategy = (values.strategy ?? 'random') as (typeof STRATEGIES)[number];
    if (!STRATEGIES.includes(strategy)) throw usage(`--strategy must be one of ${STRATEGIES.join(', ')}`);
    const metrics = values.metrics?.split(',').map((m) => m.trim()) as Metric[] | undefined;
    const unknown = metrics?.filter((m) => !ALL_METRICS.includes(m));
    if (unknown?.length) throw usage(`unknown metric ${unknown.map((m) => `'${m}'`).join(', ')} (${ALL_METRICS.join(', ')})`);
    const k = num(values.k, 'k') ?? 10;
    const seed = num(values.seed, 'seed') ?? 42;
    const testFraction = num(values['test-fraction'], 'test-fraction');
    const folds = num(values.folds, 'folds');
    if (folds !== undefined && (!Number.isInteger(folds) || folds < 2 || folds > 100)) throw usage('--folds must be an integer from 2 to 100');
    if (folds !== undefined && (values.out || strategy !== 'random' || testFraction !== undefined))
      throw usage('--folds replaces the single split: leave out --out, --strategy and --test-fraction');

    const data = await loadData(values);
    if (folds !== undefined) {
      const results: Evaluation[] = [];
      for (const [f, { train, test }] of (await kFold(data, { folds, seed })).entries()) {
        progress.log(`fold ${f + 1} of ${folds}: ${train.size} training / ${test.size} test interactions`);
        results.push(await evaluate(await trainer.fit(train), train, test, { k, metrics }));
      }
      console.log(`${kind}, ${folds}-fold cross-validation (seed ${seed}), mean ± standard deviation:`);
      for (const metric of Object.keys(results[0])) {
        const xs = results.map((r) => r[metric as keyof Evaluation] as number);
        if (!xs.every((x) => typeof x === 'number' && Number.isFinite(x))) continue;
        const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
        const sd = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / Math.max(1, xs.length - 1));
        console.log(`  ${metric.padEnd(18)} ${Number.isInteger(mean) && sd === 0 ? mean : `${mean.toFixed(4)} ± ${sd.toFixed(4)}`}`);
      }
      return 0;
    }
    const { train, test } = await split(data, { strategy, testFraction, seed });
    const model = await trainer.fit(train);
    const result = await evaluate(model, train, test, { k, metrics });
    console.log(`${kind} on ${train.size} training / ${test.size} test interactions (${strategy} split, seed ${seed}):`);
    for (const [metric, value] of Object.entries(result)) console.log(`  ${metric.padEnd(18)} ${typeof value === 'number' && !Number.isInteger(value) ? value.toFixed(4) : value}`);
    if (values.out) {
      const figures = Object.fromEntries(Object.entries(result).filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1])));
      if (model.metadata) {
        model.metadata.quality = { ...model.metadata.quality, ...figures, testInteractions: test.size };
        if ((await stat(values.data!)).isFile()) model.metadata.input = await fileDigest(values.data!);
      }
      await model.save(values.out);
      console.log(`saved the evaluated model with its figures -> ${values.out}`);
    }
    return 0;
  },
};
