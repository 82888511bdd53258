// The affinity command line: one module per command in commands/, dispatched here.
import type { Command } from './common.js';
import { abtest } from './commands/abtest.js';
import { clv } from './commands/clv.js';
import { demo } from './commands/demo.js';
import { forget, ingest, retrain } from './commands/events.js';
import { evalCommand } from './commands/eval.js';
import { tuneCommand } from './commands/tune.js';
import { generate } from './commands/generate.js';
import { info } from './commands/info.js';
import { inspect } from './commands/inspect.js';
import { ope } from './commands/ope.js';
import { recommend } from './commands/recommend.js';
import { serveCommand } from './commands/serve.js';
import { reportCommand } from './commands/report.js';
import { similarity } from './commands/similarity.js';
import { exportCommand, importCommand } from './commands/spark.js';
import { train } from './commands/train.js';

const COMMANDS: Record<string, Command> = { info, generate, similarity, train, inspect, eval: evalCommand, tune: tuneCommand, recommend, serve: serveCommand, report: reportCommand, demo, clv, abtest, ope, ingest, forget, retrain, import: importCommand, export: exportCommand };

const MAIN_HELP = `affinity: recommendations and marketing models for Node.js, with a native SIMD core

usage: affinity <command> [options]

commands:
  info          CPU features, SIMD level and threads in use
  generate      write a synthetic power-law data set (small, medium, lastfm presets)
  similarity    item-item or user-user similarity of an interactions file, written as .npy
  train         train a model (ALS, ItemKNN, UserKNN, segments, propensity, rules, content, hybrid)
  inspect       what a model file holds: kind, sizes, training metadata
  eval          split a data set, train, and print ranking metrics
  tune          search a model's settings on a validation split of your training data
  abtest        A/B test analysis of an experiment export: lift, intervals, p-values, sample ratio
  clv           customer lifetime value from purchase lines (BG/NBD, Pareto/NBD, Gamma-Gamma)
  ope           off-policy evaluation of an offer policy on logged decisions (IPS, SNIPS, DM, DR)
  recommend     recommendations from a model file (or a model trained on the spot)
  serve         the HTTP scoring server for model files, offer policies and an events store
  report        the dashboard's charts for model files as one self-contained HTML file (and PNGs)
  ingest        stream events (JSON lines or CSV) into an events store
  forget        erase a customer: their events, and model files rewritten without them
  retrain       train a model from an events store, kept only when not worse on the latest day
  import        import spark DIR: a Spark MLlib ALS model directory as a model file
  export        export spark MODEL: an ALS model file as a Spark MLlib ALSModel directory
  demo          train models on a demo shop and serve them (npm start)

Run \`affinity <command> --help\` for its options. Benchmarks live in the repository, not in the
installed package: in a checkout, \`npm run bench:similarity\` (also als, http, quality, analytics).`;

export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    const topic = args[0] === undefined ? undefined : COMMANDS[args[0]];
    console.log(topic?.help ?? MAIN_HELP);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`affinity: unknown command '${name}'\n`);
    console.error(MAIN_HELP);
    return 2;
  }
  try {
    return await command.run(args);
  } catch (err) {
    const e = err as Error & { code?: string };
    console.error(`affinity ${name}: ${e.message}${e.code ? ` (${e.code})` : ''}`);
    return 1;
  }
}
