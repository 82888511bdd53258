import { parseArgs } from 'node:util';
import { abTest, type AbTestResult } from '../../analytics/abtest.js';
import { AffinityError, ErrorCode } from '../../core/errors.js';
import { parseCsv, sniffDelimiter } from '../../io/csv.js';
import { readTextFile } from '../../io/files.js';
import { num, usage, type Command } from '../common.js';

export const abtest: Command = {
  help: `usage: affinity abtest --data FILE --outcome COLUMN --group COLUMN --control LABEL [options]

A/B (and A/B/n) analysis of an experiment export (CSV, may be .gz; one row per customer): each arm
against control with its lift, 95% interval and p-value (Holm-adjusted across arms), and a
sample-ratio-mismatch check of the group sizes.

  --metric rate|mean     rate for 0/1 outcomes (default: Wilson, Newcombe, two-proportion z),
                         mean for amounts (Welch)
  --confidence X         default 0.95
  --planned G=S,...      planned shares per group for the sample-ratio check (default: equal)
  --delimiter C          default: sniffed from the header`,
  async run(args) {
    const { values } = parseArgs({
      args,
      options: { help: { type: 'boolean' }, data: { type: 'string' }, outcome: { type: 'string' }, group: { type: 'string' }, control: { type: 'string' }, metric: { type: 'string' }, confidence: { type: 'string' }, planned: { type: 'string' }, delimiter: { type: 'string' } },
    });
    if (values.help) return console.log(this.help), 0;
    for (const name of ['data', 'outcome', 'group', 'control'] as const) if (!values[name]) throw usage(`--${name} is required`);
    const metric = (values.metric ?? 'rate') as 'rate' | 'mean';
    if (metric !== 'rate' && metric !== 'mean') throw usage('--metric must be rate or mean');
    const confidence = num(values.confidence, 'confidence') ?? 0.95;
    const planned = values.planned && Object.fromEntries(values.planned.split(',').map((kv) => {
      const [k, v] = kv.split('=');
      if (!k || !(Number(v) > 0)) throw usage(`--planned ${kv}: expected GROUP=SHARE`);
      return [k, Number(v)];
    }));
    const text = await readTextFile(values.data!);
    const rows = parseCsv(text, values.delimiter ?? sniffDelimiter(text), values.data!);
    const header = rows.next();
    const names = header.done ? [] : header.value.fields.map((f) => f.trim());
    const at = (c: string) => {
      const i = names.indexOf(c);
      if (i < 0) throw new AffinityError(`${values.data}:1: no column ${JSON.stringify(c)} (the header has ${names.join(', ')})`, ErrorCode.Parse);
      return i;
    };
    const oi = at(values.outcome!), gi = at(values.group!);
    const outcomes: number[] = [], groups: string[] = [];
    for (const { fields, line } of rows) {
      const y = Number(fields[oi]);
      if (fields.length <= Math.max(oi, gi) || fields[oi].trim() === '' || !Number.isFinite(y)) throw new AffinityError(`${values.data}:${line}: the outcome is not a number`, ErrorCode.Parse);
      outcomes.push(y);
      groups.push(fields[gi].trim());
    }
    const r = abTest(outcomes, groups, { control: values.control!, metric, confidence, ...(planned ? { planned } : {}) });
    console.log(report(r));
    return 0;
  },
};

function report(r: AbTestResult): string {
  const pct = (x: number) => (r.metric === 'rate' ? `${(x * 100).toFixed(2)}%` : x.toFixed(4));
  const pts = (x: number) => (r.metric === 'rate' ? `${(x * 100).toFixed(2)} pt` : x.toFixed(4));
  const ci = ([a, b]: [number, number], f: (x: number) => string) => `[${f(a)}, ${f(b)}]`;
  const rel = (x: number) => `${(x * 100).toFixed(1)}%`;
  const lines = [
    `${r.metric === 'rate' ? 'rate' : 'mean'} by group, ${Math.round(r.confidence * 100)}% intervals; control ${JSON.stringify(r.control.group)}: n ${r.control.n}, ${pct(r.control.value)} ${ci(r.control.valueCi, pct)}`,
    '',
    '| group | n | value | lift | interval | relative lift | interval | p-value | Holm-adjusted |',
    '|---|---|---|---|---|---|---|---|---|',
    ...r.arms.map((a) => `| ${a.group} | ${a.n} | ${pct(a.value)} | ${pts(a.lift)} | ${ci(a.liftCi, pts)} | ${rel(a.relativeLift)} | ${ci(a.relativeLiftCi, rel)} | ${a.pValue.toExponential(3)} | ${a.adjustedPValue.toExponential(3)} |`),
    '',
    `sample ratio: chi-squared ${r.srm.chiSquared.toFixed(3)} on ${r.srm.df} df, p = ${r.srm.pValue.toFixed(4)}${r.srm.pValue < 0.001 ? '  (MISMATCH: the groups are not the planned split; check the assignment before trusting the lifts)' : ''}`,
  ];
  return lines.join('\n');
}
