import { parseArgs } from 'node:util';
import { DEFAULT_SPACES, TUNABLE_MODELS, tune, type SearchSpace, type TunableModel } from '../../eval/tune.js';
import { COMMON, DATA_HELP, checkDataOptions, loadData, num, usage, type Command } from '../common.js';
import { progress } from '../progress.js';

const format = (v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? v.toPrecision(3) : String(v));

export const tuneCommand: Command = {
  help: `usage: affinity tune --data FILE --model als|ease|itemknn|bpr [options]

Searches the model's settings on a validation split carved from FILE (pass your training data: a test
set you keep aside stays out of every choice), prints every trial and the best setting, and with --out
saves the best setting refit on all of FILE.

  --model KIND             default als
  --budget N               settings sampled (default 30)
  --metric NAME@K          ndcg@10 (default), precision@k, recall@k, map@k, mrr@k, hitRate@k
  --eta N                  successive halving: keep the best 1/N per rung (default 3; 1 = plain random
                           search). ALS and BPR rungs train with a fraction of their iterations or epochs.
  --space JSON             parameter ranges, e.g. '{"lambda":{"min":10,"max":2000,"log":true}}' or
                           '{"factors":{"values":[32,64]}}' (default: the model's own, shown by --help)
  --validation-fraction X  default 0.2 of each user's interactions
  --seed N                 default 42
  --threads N
  --out FILE               save the tuned model, refit on all of FILE
  --json                   print { trials, best } as JSON instead of a table

Default spaces:
${TUNABLE_MODELS.map((m) => `  ${m.padEnd(8)} ${JSON.stringify(DEFAULT_SPACES[m])}`).join('\n')}
${DATA_HELP}`,
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        ...COMMON,
        model: { type: 'string' },
        budget: { type: 'string' },
        metric: { type: 'string' },
        eta: { type: 'string' },
        space: { type: 'string' },
        'validation-fraction': { type: 'string' },
        seed: { type: 'string' },
        out: { type: 'string' },
        json: { type: 'boolean' },
      },
    });
    if (values.help) return console.log(this.help), 0;
    checkDataOptions(values);
    const model = (values.model ?? 'als') as TunableModel;
    if (!TUNABLE_MODELS.includes(model)) throw usage(`--model must be one of ${TUNABLE_MODELS.join(', ')}`);
    let space: SearchSpace | undefined;
    if (values.space !== undefined) {
      try {
        space = JSON.parse(values.space) as SearchSpace;
      } catch {
        throw usage('--space must be JSON, e.g. \'{"lambda":{"min":10,"max":2000,"log":true}}\'');
      }
    }
    const threads = num(values.threads, 'threads');
    const data = await loadData(values);
    const controller = new AbortController();
    const stop = () => controller.abort(new Error('interrupted'));
    process.once('SIGINT', stop);
    try {
      const result = await tune(data, {
        model,
        space,
        fixed: threads === undefined ? undefined : { threads },
        budget: num(values.budget, 'budget'),
        metric: values.metric,
        eta: num(values.eta, 'eta'),
        seed: num(values.seed, 'seed'),
        split: { testFraction: num(values['validation-fraction'], 'validation-fraction') },
        signal: controller.signal,
        onProgress: progress.bar(`tune ${model}`),
        onTrial: (t) => progress.log(`trial ${t.id} rung ${t.rung}: ${values.metric ?? 'ndcg@10'} ${t.metric.toFixed(4)} in ${t.fitSeconds.toFixed(2)} s ${JSON.stringify(t.params)}`),
      });
      if (values.json) console.log(JSON.stringify({ trials: result.trials, best: result.best }, null, 2));
      else {
        const names = [...new Set(result.trials.flatMap((t) => Object.keys(t.params)))];
        console.log(`| trial | rung | ${names.join(' | ')} | ${values.metric ?? 'ndcg@10'} | fit s |`);
        console.log(`|${' --- |'.repeat(names.length + 4)}`);
        for (const t of result.trials) console.log(`| ${t.id} | ${t.rung} | ${names.map((n) => format(t.params[n])).join(' | ')} | ${t.metric.toFixed(4)} | ${t.fitSeconds.toFixed(2)} |`);
        console.log(`best: ${JSON.stringify(result.best.params)} (${values.metric ?? 'ndcg@10'} ${result.best.metric.toFixed(4)} on the validation split)`);
      }
      if (values.out) {
        await result.model.save(values.out);
        console.log(`saved the tuned ${model} model, refit on all ${data.size} interactions -> ${values.out}`);
      }
    } finally {
      process.off('SIGINT', stop);
    }
    return 0;
  },
};
