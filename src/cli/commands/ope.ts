import { parseArgs } from 'node:util';
import { Bandit } from '../../analytics/bandit.js';
import { banditLogsOf, offPolicyValue, type BanditLogs, type OpeEstimator } from '../../analytics/ope.js';
import { fitRewardModel } from '../../analytics/rewardmodel.js';
import { AffinityError, ErrorCode } from '../../core/errors.js';
import { FeatureTable } from '../../data/featuretable.js';
import type { Id } from '../../data/ids.js';
import { loadModel } from '../../files/models.js';
import { readDecisionLog } from '../../io/decisionlog.js';
import { readTextFile } from '../../io/files.js';
import { f3, num, table, usage, type Command } from '../common.js';

export const ope: Command = {
  help: `usage: affinity ope --logs FILE --policy FILE [options]

Off-policy evaluation: how the policy in --policy (a bandit model file) would have done on the logged
decisions of another, with IPS, SNIPS and (with a reward model) DM and DR, each with a 95% bootstrap
interval and its effective sample size, next to the logged policy's own average reward.

  --logs FILE            a decision log (decisions.log of affinity serve --offers), or a CSV of logged
                         rows with --action, --reward, --propensity and --context columns
  --estimators LIST      default ips,snips,dm,dr (dm and dr fit a reward model, cross-fitted)
  --reward-model KIND    logistic (0/1 rewards with contexts), forest, or mean; default: logistic or mean
  --missing-reward X     decision-log decisions without a reward record count X (default 0)
  --clip W               clip importance weights at W (default: none)
  --bootstrap N          resamples for the intervals (default 1000)
  --seed N               default 42
  CSV logs:
  --action COL --reward COL --propensity COL   default action, reward, propensity
  --context COLS         comma-separated context columns (as many as the policy's features)`,
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        help: { type: 'boolean' }, logs: { type: 'string' }, policy: { type: 'string' }, estimators: { type: 'string' }, 'reward-model': { type: 'string' },
        'missing-reward': { type: 'string' }, clip: { type: 'string' }, bootstrap: { type: 'string' }, seed: { type: 'string' },
        action: { type: 'string' }, reward: { type: 'string' }, propensity: { type: 'string' }, context: { type: 'string' },
      },
    });
    if (values.help) return console.log(this.help), 0;
    if (!values.logs || !values.policy) throw usage('--logs and --policy are required');
    const policy = await loadModel(values.policy);
    if (!(policy instanceof Bandit)) throw new AffinityError(`${values.policy} holds a ${policy.kind} model, not a bandit`, ErrorCode.Unsupported);
    const logs = (await isDecisionLog(values.logs))
      ? banditLogsOf(await readDecisionLog(values.logs), policy.arms, { missingReward: num(values['missing-reward'], 'missing-reward') })
      : await csvLogs(values.logs, policy.arms, values);
    const estimators = (values.estimators ?? 'ips,snips,dm,dr').split(',').map((e) => e.trim()) as OpeEstimator[];
    const arms = policy.arms.length;
    const needsModel = estimators.some((e) => e === 'dm' || e === 'dr' || e === 'switch-dr');
    const rewardModel = needsModel ? await fitRewardModel(logs, { arms, model: values['reward-model'] as 'logistic' | undefined, seed: num(values.seed, 'seed') }) : undefined;
    const rows: (string | number)[][] = [];
    for (const estimator of estimators) {
      const r = await offPolicyValue(logs, policy, { arms, estimator, rewardModel, clip: num(values.clip, 'clip'), bootstrap: num(values.bootstrap, 'bootstrap'), seed: num(values.seed, 'seed') });
      rows.push([estimator, f3(r.value), `${f3(r.ci[0])} to ${f3(r.ci[1])}`, r.effectiveSampleSize.toFixed(0)]);
    }
    let logged = 0;
    for (let i = 0; i < logs.rewards.length; i++) logged += logs.rewards[i] / logs.rewards.length;
    console.log(`${logs.rewards.length} logged decisions; the logged policy's average reward ${f3(logged)}; evaluating ${values.policy} (${policy.policy}, ${arms} offers)\n`);
    console.log(table(['estimator', 'value', '95% interval', 'effective rows'], rows));
    return 0;
  },
};

async function isDecisionLog(path: string): Promise<boolean> {
  const head = (await readTextFile(path)).slice(0, 16);
  return /^[0-9a-f]{8} \{/.test(head);
}

async function csvLogs(path: string, arms: readonly Id[], values: Record<string, string | boolean | undefined>): Promise<BanditLogs> {
  const col = (name: string) => String(values[name] ?? name);
  const context = typeof values.context === 'string' ? values.context.split(',').map((c) => c.trim()).filter(Boolean) : [];
  const t = await FeatureTable.fromFile(path, { columns: [col('action'), col('reward'), col('propensity'), ...context] });
  const index = new Map<string, number>(arms.map((a, i) => [String(a), i]));
  const actions = Int32Array.from(t.labels(col('action')), (a) => {
    const i = index.get(String(a));
    if (i === undefined) throw new AffinityError(`the logs show action ${JSON.stringify(a)}, which the policy does not know`, ErrorCode.UnknownId);
    return i;
  });
  const rows = t.rows;
  const x = new Float64Array(rows * context.length);
  context.forEach((c, d) => t.numbers(c).forEach((v, r) => (x[r * context.length + d] = v)));
  return { actions, rewards: t.numbers(col('reward')), propensities: t.numbers(col('propensity')), ...(context.length ? { contexts: { values: x, rows, dims: context.length } } : {}) };
}
