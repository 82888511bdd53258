import { parseArgs } from 'node:util';
import { resolveId } from '../../data/ids.js';
import type { Recommender } from '../../models/contract.js';
import { loadRecommender } from '../../files/models.js';
import { COMMON, loadData, num, TRAINING, trainModel, usage, type Command } from '../common.js';

export const recommend: Command = {
  help: `usage: affinity recommend (--model FILE | --data FILE) --user ID [--user ID ...] [options]

  --model FILE              a saved model (affinity train); otherwise:
  --data FILE --kind itemknn|userknn|als   train on the spot (default itemknn)
  --k N                     recommendations per user (default 10)
  --neighbours N            neighbours per item or user (default 50)
  --measure NAME            as for similarity
  (and --columns / --header as for similarity)`,
  async run(args) {
    const { values } = parseArgs({ args, options: { ...COMMON, ...TRAINING, user: { type: 'string', multiple: true }, model: { type: 'string' }, kind: { type: 'string' }, k: { type: 'string' } } });
    if (values.help) return console.log(this.help), 0;
    if (!values.user?.length) throw usage('--user is required');
    const model: Recommender = values.model ? await loadRecommender(values.model) : await trainModel(values.kind ?? 'itemknn', values, await loadData(values));
    for (const raw of values.user) {
      const user = resolveId(model.users, raw) ?? raw;
      console.log(JSON.stringify({ user: raw, items: model.recommend(user, { k: num(values.k, 'k') }) }));
    }
    return 0;
  },
};
