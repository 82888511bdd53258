// bench/typecheck: how long a consumer's type-check takes when it imports both entry points of the built
// package (strict, nodenext, skipLibCheck false, exactOptionalPropertyTypes: scripts/consumer-project.mjs),
// against the same project importing only node:fs and only Fastify, in the same run (the floors: every
// Node service checks @types/node, every Fastify service Fastify's types). Needs dist/ (npm run build).
//   npm run bench:typecheck -- [--runs 3]
import { execFileSync } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
// @ts-expect-error: a plain .mjs helper shared with the tests, without declarations
import { consumerProject, tscPath } from '../scripts/consumer-project.mjs';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });

const FLOORS: Record<string, string> = {
  'node:fs only': `import { readFileSync } from 'node:fs';\nconsole.log(readFileSync);\n`,
  'fastify only': `import Fastify from 'fastify';\nconst app = Fastify();\napp.get('/', async () => 'x');\nawait app.listen({ port: 8080 });\nexport {};\n`,
};

async function measure(source: string | undefined): Promise<{ total: number; check: number; files: number; memory: number }> {
  const dir: string = await consumerProject();
  if (source !== undefined) await writeFile(join(dir, 'service.ts'), source);
  try {
    const out = execFileSync(process.execPath, [tscPath, '-p', dir, '--extendedDiagnostics'], { encoding: 'utf8' });
    const field = (name: string) => Number(new RegExp(`${name}:\\s+([0-9.]+)`).exec(out)?.[1]);
    return { total: field('Total time'), check: field('Check time'), files: field('Files'), memory: field('Memory used') / 1024 };
  } catch (err) {
    throw new Error(`the consumer project does not type-check:\n${(err as { stdout?: string }).stdout}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const runs = Number(values.runs);
const rows: [string, Awaited<ReturnType<typeof measure>>[]][] = [];
for (const [name, source] of [['affinity + affinity/server', undefined] as const, ...Object.entries(FLOORS)]) {
  const results = [];
  for (let r = 0; r < runs; r++) results.push(await measure(source));
  rows.push([name, results]);
}
console.log(`## Consumer type-check (tsc ${execFileSync(process.execPath, [tscPath, '--version'], { encoding: 'utf8' }).trim()}, median of ${runs})`);
console.log('| project | files | check (s) | total (s) | memory (MB) |\n|---|---|---|---|---|');
for (const [name, rs] of rows)
  console.log(`| ${name} | ${rs[0].files} | ${median(rs.map((r) => r.check)).toFixed(2)} | ${median(rs.map((r) => r.total)).toFixed(2)} | ${median(rs.map((r) => r.memory)).toFixed(0)} |`);
const ours = median(rows[0][1].map((r) => r.total));
const fastify = median(rows[2][1].map((r) => r.total));
console.log(`\naffinity's share over a bare Fastify service: ${(ours - fastify).toFixed(2)} s (${(ours / fastify).toFixed(2)}x its total)`);
