import { parseArgs } from 'node:util';
import type { BetaGeo, GammaGamma, ParetoNBD } from '../../analytics/clv.js';
import { LifetimeValueModel } from '../../analytics/lifetime.js';
import { rfmSummary } from '../../analytics/rfm.js';
import { Transactions } from '../../data/transactions.js';
import { parseTime } from '../../io/transactionfile.js';
import { transactionColumns } from '../analytics.js';
import { num, usage, whereOf, type Command } from '../common.js';
import { progress } from '../progress.js';

export const clv: Command = {
  help: `usage: affinity clv --data lines.csv --columns customer,item,time,amount[,basket] --calibration-end DATE [options]

Customer lifetime value from purchase lines: BG/NBD (or Pareto/NBD) for purchases and Gamma-Gamma for
spend, fitted on the calibration period; prints the parameters with standard errors, a holdout check
when the data go on after --calibration-end, and the customers worth most.

  --calibration-end DATE   last day of the calibration period (YYYY-MM-DD or unix seconds)
  --holdout-end DATE       end of the holdout period (default: the last purchase in the data)
  --model bgnbd|paretonbd  default bgnbd
  --months N               lifetime-value horizon (default 12)
  --discount-rate X        monthly (default 0.01)
  --penalizer X            L2 on the parameters (default 0: plain maximum likelihood)
  --top N                  customers listed (default 10)
  --where JSON --delimiter C --skip-invalid   as for train
  --out FILE               save the lifetime-value model (kind clv: both models and each customer's
                           summary), which affinity serve answers on /v1/clv`,
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        help: { type: 'boolean' }, data: { type: 'string' }, columns: { type: 'string' }, 'calibration-end': { type: 'string' }, 'holdout-end': { type: 'string' },
        model: { type: 'string' }, months: { type: 'string' }, 'discount-rate': { type: 'string' }, penalizer: { type: 'string' }, top: { type: 'string' },
        where: { type: 'string' }, delimiter: { type: 'string' }, 'skip-invalid': { type: 'boolean' }, out: { type: 'string' },
      },
    });
    if (values.help) return console.log(this.help), 0;
    if (!values.data) throw usage('--data is required');
    const columns = transactionColumns(values.columns);
    const calibrationEnd = parseTime(values['calibration-end'] ?? '');
    if (!Number.isFinite(calibrationEnd)) throw usage('--calibration-end DATE is required (YYYY-MM-DD or unix seconds)');
    const holdoutEnd = values['holdout-end'] === undefined ? undefined : parseTime(values['holdout-end']);
    if (holdoutEnd !== undefined && !Number.isFinite(holdoutEnd)) throw usage('--holdout-end must be a date');
    const kind = values.model ?? 'bgnbd';
    if (kind !== 'bgnbd' && kind !== 'paretonbd') throw usage('--model must be bgnbd or paretonbd');
    const months = num(values.months, 'months') ?? 12;
    const discountRate = num(values['discount-rate'], 'discount-rate') ?? 0.01;
    const penalizer = num(values.penalizer, 'penalizer') ?? 0;
    const top = num(values.top, 'top') ?? 10;

    const tx = await Transactions.fromFile(values.data, { columns, where: whereOf(values.where), delimiter: values.delimiter, skipInvalid: values['skip-invalid'] === true });
    const end = holdoutEnd ?? tx.timeRange[1];
    const s = rfmSummary(tx, { calibrationEnd, observationEnd: end > calibrationEnd ? end : undefined, unit: 'weeks' });
    progress.log(`data: ${tx.size} lines, ${s.customers.length} customers first buying by the calibration end`);
    const model = await LifetimeValueModel.fit(s, { purchases: kind === 'bgnbd' ? 'betageo' : 'paretonbd', penalizer, months, discountRate }, { onProgress: progress.bar('fit') });
    const { purchases, spend } = model;
    const show = (name: string, m: BetaGeo | ParetoNBD | GammaGamma) =>
      `${name}: ${Object.entries(m.params).map(([k, v]) => `${k} ${v.toFixed(4)} (± ${(m.standardErrors as Record<string, number>)[k].toFixed(4)})`).join(', ')}; log-likelihood ${m.report!.logLikelihood.toFixed(2)}, ${m.report!.iterations} iterations${m.report!.converged ? '' : ' (not converged)'}`;
    console.log(show(purchases.kind, purchases));
    console.log(show('gammagamma', spend) + `; frequency-spend correlation ${spend.frequencySpendCorrelation!.toFixed(3)}`);
    if (s.holdoutFrequency) {
      const weeks = (end - calibrationEnd) / (7 * 86_400);
      const predicted = await purchases.conditionalExpectedPurchases(s, weeks);
      const sum = (a: Float64Array) => a.reduce((x, y) => x + y, 0);
      const mae = predicted.reduce((m, p, i) => m + Math.abs(p - s.holdoutFrequency![i]), 0) / predicted.length;
      model.metadata = { ...model.metadata!, holdout: await model.holdoutSample(s, weeks) };
      console.log(`holdout (${weeks.toFixed(1)} weeks): predicted ${sum(predicted).toFixed(0)} repeat purchases, actual ${sum(s.holdoutFrequency).toFixed(0)}; mean absolute error per customer ${mae.toFixed(3)}`);
    }
    const worth = await model.valueOf(s.customers);
    const order = Array.from(worth.keys()).sort((a, b) => worth[b].value - worth[a].value).slice(0, top);
    console.log(`\n| customer | repeat purchases | P(alive) | expected purchases | CLV ${months} months |\n|---|---|---|---|---|`);
    for (const i of order) console.log(`| ${s.customers[i]} | ${s.frequency[i]} | ${worth[i].probabilityAlive.toFixed(3)} | ${worth[i].expectedPurchases.toFixed(2)} | ${worth[i].value.toFixed(2)} |`);
    if (values.out) {
      await model.save(values.out);
      console.log(`saved the lifetime-value model (${purchases.kind} + gammagamma, ${s.customers.length} customers) -> ${values.out}`);
    }
    return 0;
  },
};
