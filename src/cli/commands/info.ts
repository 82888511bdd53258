import { parseArgs } from 'node:util';
import { capabilities } from '../../index.js';
import type { Command } from '../common.js';

export const info: Command = {
  help: `usage: affinity info\n\nPrints capabilities() as JSON: CPU architecture and features, the SIMD levels it can run, the level in use, threads.`,
  async run(args) {
    const { values } = parseArgs({ args, options: { help: { type: 'boolean' } } });
    if (values.help) return console.log(this.help), 0;
    console.log(JSON.stringify(capabilities(), null, 2));
    return 0;
  },
};
