#!/usr/bin/env node
// The `affinity` command. The implementation is compiled TypeScript in dist/ (built by npm install).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  console.error('affinity: dist/ is missing; run `npm install` (or `npm run build`) in the package first.');
  process.exit(1);
}
const { main } = await import(cli.href);
process.exitCode = await main(process.argv.slice(2));
