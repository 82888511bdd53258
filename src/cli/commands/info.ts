import { capabilities } from '../../index.js';
import type { Command } from '../common.js';

export const info: Command = {
  help: `usage: affinity info\n\nPrints capabilities() as JSON.`,
  async run() {
    console.log(JSON.stringify(capabilities(), null, 2));
    return 0;
  },
};
