import { parseArgs } from 'node:util';
import { evaluate, split } from '../../eval/evaluate.js';
import { MostPopular } from '../../models/popular.js';
import { stat } from 'node:fs/promises';
import { COMMON, fileDigest, loadData, num, TRAINING, trainModel, type Command } from '../common.js';

export const evalCommand: Command = {
  help: `usage: affinity eval --data FILE --model als|itemknn|userknn|popular [options]

  --strategy random|leave-last-out|time   default random
  --test-fraction X                        default 0.2
  --k N                                    default 10
  --out FILE                               save the evaluated model (trained on the training split)
                                           with these figures in its metadata (quality)
  (and the training options of train)`,
  async run(args) {
    const { values } = parseArgs({ args, options: { ...COMMON, ...TRAINING, model: { type: 'string' }, strategy: { type: 'string' }, 'test-fraction': { type: 'string' }, k: { type: 'string' }, out: { type: 'string' } } });
    if (values.help) return console.log(this.help), 0;
    const data = await loadData(values);
    const { train, test } = await split(data, { strategy: values.strategy as 'random' | undefined, testFraction: num(values['test-fraction'], 'test-fraction'), seed: 42 });
    const kind = values.model ?? 'als';
    const model = kind === 'popular' ? await new MostPopular().fit(train) : await trainModel(kind, values, train);
    const result = await evaluate(model, train, test, { k: num(values.k, 'k') ?? 10 });
    console.log(`${kind} on ${train.size} training / ${test.size} test interactions (${values.strategy ?? 'random'} split, seed 42):`);
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
