import { stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ANALYTICS_KINDS, ANALYTICS_OPTIONS, trainAnalytics } from '../analytics.js';
import { CAMPAIGN_HELP, CAMPAIGN_KINDS, CAMPAIGN_OPTIONS, trainCampaign } from '../campaign.js';
import { COMMON, DATA_HELP, fileDigest, loadData, prepareModel, TRAINING, TRAINING_HELP, usage, type Command } from '../common.js';
import { progress } from '../progress.js';

export const train: Command = {
  help: `usage: affinity train --data FILE --model KIND --out FILE [options]

Recommenders, on an interactions file (user,item[,value[,timestamp]]):
  --model als|bpr|ease|itemknn|userknn   default als
${TRAINING_HELP}
${DATA_HELP}

Marketing models, on a purchase-lines file (CSV, may be .gz):
  --model segments|propensity|rules|content|hybrid
  --columns customer,item,time[,amount[,basket]]   header names or 0-based indices; amount may be
                                                   A*B (Quantity*UnitPrice); times as unix seconds,
                                                   ISO 8601 or 'YYYY-MM-DD HH:MM[:SS]' (UTC)
  --items products.csv     the catalogue: text and categories (content, hybrid; categories for the
                           segment profiles and the propensity category mix)
  --k N                    segments (default 5); rules kept per item (default 20); content neighbours (default 50)
  --horizon DAYS           propensity: churned = no purchase within this many days (default 90)
  --classifier logistic|forest   propensity: the model (default logistic)
  --min-support N          rules: baskets a pair must share, or a fraction of baskets below 1 (default 2)
  --min-lift X             rules: default 1
  --skip-invalid           skip rows without a customer or item, or with an unreadable time or amount
  --where JSON             keep rows meeting these conditions, e.g. '{"Quantity":{"gt":0},"InvoiceNo":{"notStartsWith":"C"}}'
                           (eq, notEq, in, notIn, lt, lte, gt, gte, startsWith, notStartsWith, empty)
  --delimiter C            default: sniffed from the header among , ; tab |

${CAMPAIGN_HELP}

Prints progress and a summary (segment profiles, churn ROC AUC on a time split, rule counts...);
writes the model atomically with its training metadata (the input file's SHA-256 among it).`,
  async run(args) {
    const { values } = parseArgs({ args, options: { ...COMMON, ...TRAINING, ...ANALYTICS_OPTIONS, ...CAMPAIGN_OPTIONS, model: { type: 'string' }, out: { type: 'string' } } });
    if (values.help) return console.log(this.help), 0;
    if (!values.out) throw usage('--out is required');
    const kind = values.model ?? 'als';
    const started = performance.now();
    let model, summary;
    if ((ANALYTICS_KINDS as readonly string[]).includes(kind)) ({ model, summary } = await trainAnalytics(kind, values));
    else if ((CAMPAIGN_KINDS as readonly string[]).includes(kind)) ({ model, summary } = await trainCampaign(kind as (typeof CAMPAIGN_KINDS)[number], values));
    else {
      const trainer = prepareModel(kind, values); // options fail here, before the file is read
      const data = await loadData(values);
      progress.log(`data: ${data.userCount} users, ${data.itemCount} items, ${data.size} interactions`);
      model = await trainer.fit(data);
    }
    if (model.metadata && (await stat(values.data!)).isFile()) model.metadata.input = await fileDigest(values.data!);
    await model.save(values.out);
    if (summary) console.log(summary);
    console.log(`trained ${kind} in ${((performance.now() - started) / 1000).toFixed(2)} s -> ${values.out}`);
    return 0;
  },
};
