// Bundles the dashboard (dashboard/*.ts, Observable Plot and its d3 parts) into dist/dashboard/app.js and
// app.css: one script and one style sheet, no request to any other host. The server and `affinity report`
// both serve these two files.
import { mkdir, copyFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'dashboard');
await mkdir(out, { recursive: true });
await build({
  entryPoints: [join(root, 'dashboard', 'main.ts')],
  outfile: join(out, 'app.js'),
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020'],
  legalComments: 'eof',
  logLevel: 'warning',
});
await copyFile(join(root, 'dashboard', 'style.css'), join(out, 'app.css'));
