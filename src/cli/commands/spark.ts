// affinity import spark / export spark: model directories of Spark MLlib's ALS, both ways.
import { parseArgs } from 'node:util';
import { loadModel } from '../../files/models.js';
import { ALS } from '../../models/als.js';
import { loadSparkALS } from '../../models/spark.js';
import { COMMON, loadData, num, usage, type Command } from '../common.js';

export const importCommand: Command = {
  help: `usage: affinity import spark DIR --out FILE [options]

Reads a Spark MLlib ALSModel directory (ALSModel.write.save: metadata/, userFactors/ and itemFactors/ in
Parquet) into an Affinity model file that affinity serve serves: recommendations with filters, batch,
scores, similar items, fold-in of visitors with Spark's equations, explanations. ALSModel does not keep
how it was trained: give it here (Spark's defaults otherwise: explicit, alpha 1, regParam 0.1).

  --out FILE               the model file to write
  --implicit-prefs         the model was trained with implicitPrefs=true
  --alpha X                Spark's alpha (implicit confidence 1 + alpha * |r|)
  --reg-param X            Spark's regParam (scaled by each row's number of ratings, as Spark does)
  --data FILE              the training interactions (ids as Spark's ints): histories for filterSeen
                           and explanations; --columns, --where, --delimiter as for train
  --allow-uncommitted      read factor folders without Spark's _SUCCESS marker`,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { ...COMMON, out: { type: 'string' }, 'implicit-prefs': { type: 'boolean' }, alpha: { type: 'string' }, 'reg-param': { type: 'string' }, 'allow-uncommitted': { type: 'boolean' } },
    });
    if (values.help) return console.log(this.help), 0;
    const [what, dir] = positionals;
    if (what !== 'spark' || !dir) throw usage('usage: affinity import spark DIR --out FILE');
    if (!values.out) throw usage('--out FILE is required');
    const model = await loadSparkALS(dir, {
      implicitPrefs: values['implicit-prefs'] === true ? true : undefined,
      alpha: num(values.alpha, 'alpha'),
      regParam: num(values['reg-param'], 'reg-param'),
      interactions: values.data === undefined ? undefined : await loadData(values),
      allowUncommitted: values['allow-uncommitted'] === true,
    });
    await model.save(values.out);
    const source = model.metadata?.source as { sparkVersion?: string; defaulted?: string[] } | undefined;
    console.error(
      `${dir}: Spark ${source?.sparkVersion} ALS, rank ${model.options.factors}, ${model.users.size} users, ${model.items.size} items, ${model.options.feedback}` +
        `${source?.defaulted?.length ? ` (Spark defaults for ${source.defaulted.join(', ')})` : ''} -> ${values.out}`,
    );
    return 0;
  },
};

export const exportCommand: Command = {
  help: `usage: affinity export spark MODEL --out DIR [--overwrite]

Writes an ALS model file as Spark MLlib's ALSModel directory, which ALSModel.load(DIR) reads, so a Spark
job scores with factors trained here. Ids must be ints, as Spark's are; explicit models need biases off.`,
  async run(args) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { help: { type: 'boolean' }, out: { type: 'string' }, overwrite: { type: 'boolean' } } });
    if (values.help) return console.log(this.help), 0;
    const [what, file] = positionals;
    if (what !== 'spark' || !file) throw usage('usage: affinity export spark MODEL --out DIR');
    if (!values.out) throw usage('--out DIR is required');
    const model = await loadModel(file);
    if (!(model instanceof ALS)) throw usage(`${file} holds a ${model.kind} model: only ALS exports to Spark`);
    await model.exportSpark(values.out, { overwrite: values.overwrite === true });
    console.error(`${file} -> ${values.out} (Spark ALSModel, rank ${model.options.factors})`);
    return 0;
  },
};
