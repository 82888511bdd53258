import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { AffinityError, ErrorCode } from '../../core/errors.js';
import { writeFileAtomic } from '../../io/files.js';
import { usage, type Command } from '../common.js';

export const reportCommand: Command = {
  help: `usage: affinity report --model name=FILE [--model name=FILE ...] [--policy name=FILE --logs FILE]
                       --out report.html [--png DIR]

The dashboard's charts for these model files as one self-contained HTML file (scripts, styles and data
inlined; it opens with no network and no server), for people who get a file by e-mail: segments, churn,
campaigns, lifetime value and recommendation quality, each for the first model of its kind. No customer
ids go in it: the charts read the held-out samples kept in the model files.

  --policy name=FILE   an offer policy (a bandit model file) and, with --logs, its decision log
  --logs FILE          the policy's decisions.log: the offers page (shows and rewards per offer, rewards
                       over time, the policy valued off-policy on the logged decisions)
  --out FILE   where the report goes (written atomically)
  --png DIR    also render each chart to DIR/<page>-<chart>.png in headless Chromium (needs
               playwright-core and a Chromium: /usr/bin/chromium, or AFFINITY_CHROMIUM)`,
  async run(args) {
    const { values } = parseArgs({ args, options: { help: { type: 'boolean' }, model: { type: 'string', multiple: true }, policy: { type: 'string' }, logs: { type: 'string' }, out: { type: 'string' }, png: { type: 'string' } } });
    if (values.help) return console.log(this.help), 0;
    if (!values.model?.length && !values.policy) throw usage('at least one --model name=FILE (or --policy name=FILE --logs FILE) is required');
    if ((values.policy === undefined) !== (values.logs === undefined)) throw usage('--policy and --logs go together');
    if (!values.out) throw usage('--out FILE is required');
    const { ModelRegistry } = await import('../../server/registry.js');
    const { insightPages, servedModels } = await import('../../server/insights.js');
    const { reportHtml } = await import('../../server/dashboard.js');
    const registry = new ModelRegistry();
    const named = (spec: string, flag: string) => {
      const at = spec.indexOf('=');
      if (at <= 0) throw usage(`--${flag} ${spec}: expected name=FILE`);
      return { name: spec.slice(0, at), path: spec.slice(at + 1) };
    };
    for (const spec of values.model ?? []) {
      const { name, path } = named(spec, 'model');
      await registry.load(name, path);
    }
    const pages: Record<string, unknown> = {};
    const skipped: string[] = [];
    const models = servedModels(registry);
    const attempt = async (page: string, work: () => Promise<unknown>) => {
      try {
        pages[page] = await work();
      } catch (err) {
        // A page whose model is not given, or whose file keeps no held-out check, is left out and said so.
        if (!(err instanceof AffinityError) || (err.code !== ErrorCode.UnknownModel && err.code !== ErrorCode.Unsupported)) throw err;
        if (err.code === ErrorCode.Unsupported) skipped.push(`${page}: ${err.message}`);
      }
    };
    await attempt('churn', () => insightPages.churn(registry));
    await attempt('campaigns', () => insightPages.campaigns(registry));
    await attempt('lifetime', () => insightPages.lifetime(registry));
    await attempt('segments', () => insightPages.segments(registry));
    const recommenders = models.filter((m) => m.recommends);
    if (recommenders.length > 0) pages.quality = await Promise.all(recommenders.map((m) => insightPages.quality(registry, m.name)));
    if (values.policy) pages.offers = await offersPage(named(values.policy, 'policy'), values.logs!);
    const generatedAt = new Date().toISOString();
    const overview = { at: generatedAt, uptimeSeconds: 0, models, policies: values.policy ? [named(values.policy, 'policy').name] : [], reloads: [], totals: { requests: 0, errors: 0 }, routes: [], engine: [] };
    const out = resolve(values.out);
    await writeFileAtomic(out, [Buffer.from(reportHtml({ generatedAt, overview, pages }))]);
    for (const s of skipped) console.warn(`affinity report: left out ${s}`);
    console.log(`affinity report: ${out} (${['overview', ...Object.keys(pages)].join(', ')})`);
    if (values.png) {
      const written = await renderPngs(out, resolve(values.png));
      console.log(`affinity report: ${written.length} charts as PNG in ${resolve(values.png)}`);
    }
    return 0;
  },
};

/** The offers page from a policy file and its decision log, as /v1/insights/offers answers it. */
async function offersPage(policy: { name: string; path: string }, logs: string) {
  const { loadModel } = await import('../../files/models.js');
  const { Bandit } = await import('../../analytics/bandit.js');
  const { readDecisionLog } = await import('../../io/decisionlog.js');
  const { offerStatsOf } = await import('../../insights/offers.js');
  const { offerValuation } = await import('../../server/insights.js');
  const bandit = await loadModel(policy.path);
  if (!(bandit instanceof Bandit)) throw new AffinityError(`${policy.path} holds a ${bandit.kind} model, not a bandit`, ErrorCode.Unsupported);
  const log = await readDecisionLog(logs);
  return { policy: policy.name, offers: offerStatsOf(log, bandit), ...(await offerValuation(log, bandit)) };
}

/** Each chart of a report file as a PNG, rendered in headless Chromium with every request but the file refused. */
export async function renderPngs(report: string, dir: string): Promise<string[]> {
  const { launchChromium } = await import('../browser.js');
  await mkdir(dir, { recursive: true });
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 1200, height: 900 });
    const url = pathToFileURL(report).href;
    await page.route('**/*', (route) => (route.request().url() === url ? route.continue() : route.abort()));
    await page.goto(url);
    await page.waitForSelector('#app[data-ready] figure[data-chart] svg', { timeout: 30_000 });
    const written: string[] = [];
    for (const figure of await page.locator('main[data-page] figure[data-chart]').all()) {
      const name = await figure.evaluate((f) => `${f.closest('main')?.getAttribute('data-page')}-${f.getAttribute('data-chart')}`);
      const file = join(dir, `${name.replace(/[^\w.-]+/g, '_')}.png`);
      await writeFile(file, await figure.screenshot());
      written.push(file);
    }
    return written;
  } finally {
    await browser.close();
  }
}
