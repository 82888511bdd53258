import { parseArgs } from 'node:util';
import { resolveId } from '../../data/ids.js';
import type { Recommender } from '../../models/contract.js';
import { loadRecommender } from '../../files/models.js';
import { COMMON, DATA_HELP, loadData, num, prepareModel, TRAINING, TRAINING_HELP, usage, type Command } from '../common.js';

export const recommend: Command = {
  help: `usage: affinity recommend (--model FILE | --data FILE) --user ID [--user ID ...] [options]

  --model FILE              a saved model (affinity train); otherwise:
  --data FILE --kind itemknn|userknn|als   train on the spot (default itemknn)
  --k N                     recommendations per user (default 10)
${TRAINING_HELP}
${DATA_HELP}`,
  async run(args) {
    const { values } = parseArgs({ args, options: { ...COMMON, ...TRAINING, user: { type: 'string', multiple: true }, model: { type: 'string' }, kind: { type: 'string' }, k: { type: 'string' } } });
    if (values.help) return console.log(this.help), 0;
    if (!values.user?.length) throw usage('--user is required');
    const k = num(values.k, 'k');
    let model: Recommender;
    if (values.model) model = await loadRecommender(values.model);
    else {
      const trainer = prepareModel(values.kind ?? 'itemknn', values);
      model = await trainer.fit(await loadData(values));
    }
    for (const raw of values.user) {
      const user = resolveId(model.users, raw) ?? raw;
      console.log(JSON.stringify({ user: raw, items: model.recommend(user, { k }) }));
    }
    return 0;
  },
};
