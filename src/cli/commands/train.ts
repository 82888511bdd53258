import { parseArgs } from 'node:util';
import { COMMON, loadData, TRAINING, trainModel, usage, type Command } from '../common.js';

export const train: Command = {
  help: `usage: affinity train --data FILE --model als|itemknn|userknn --out FILE [options]

  --factors N --iterations N --regularization X --alpha X --feedback implicit|explicit   (ALS)
  --neighbours N --measure NAME                                                        (KNN)
  (and --columns / --header / --threads as for similarity)
Prints progress and the loss of each ALS iteration; writes the model atomically.`,
  async run(args) {
    const { values } = parseArgs({ args, options: { ...COMMON, ...TRAINING, model: { type: 'string' }, out: { type: 'string' } } });
    if (values.help) return console.log(this.help), 0;
    if (!values.out) throw usage('--out is required');
    const data = await loadData(values);
    console.error(`data: ${data.userCount} users, ${data.itemCount} items, ${data.size} interactions`);
    const started = performance.now();
    const model = await trainModel(values.model ?? 'als', values, data);
    await model.save(values.out);
    console.log(`trained ${values.model ?? 'als'} in ${((performance.now() - started) / 1000).toFixed(2)} s -> ${values.out}`);
    return 0;
  },
};
