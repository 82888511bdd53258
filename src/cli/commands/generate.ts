import { parseArgs } from 'node:util';
import { generate as generateData, PRESETS } from '../../data/synthetic.js';
import { num, usage, type Command } from '../common.js';

export const generate: Command = {
  help: `usage: affinity generate --preset small|medium|lastfm --out PATH [--format npy|csv] [--seed N]

Writes .npy files into the directory PATH (format npy, the default) or one CSV file.`,
  async run(args) {
    const { values } = parseArgs({ args, options: { help: { type: 'boolean' }, preset: { type: 'string' }, out: { type: 'string' }, format: { type: 'string' }, seed: { type: 'string' } } });
    if (values.help) return console.log(this.help), 0;
    const preset = (values.preset ?? 'small') as keyof typeof PRESETS;
    if (!(preset in PRESETS)) throw usage(`unknown preset ${preset}`);
    if (!values.out) throw usage('--out is required');
    const data = await generateData(preset, num(values.seed, 'seed') ?? 42);
    if (values.format === 'csv') await data.saveCsv(values.out);
    else await data.saveNpy(values.out);
    console.log(`${preset}: ${data.userCount} users, ${data.itemCount} items, ${data.size} interactions -> ${values.out}`);
    return 0;
  },
};
