// README's examples that read the shared data sets run as written: the block after
// `<!-- example: NAME -->` is executed with `'affinity'` pointing at this checkout, from the repository root,
// and what it prints must match the figures its comments promise.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');

function example(name: string): string {
  const at = readme.indexOf(`<!-- example: ${name} -->`);
  if (at < 0) throw new Error(`README has no example ${name}`);
  const m = /```ts\n([\s\S]*?)```/.exec(readme.slice(at));
  if (!m) throw new Error(`example ${name} has no ts block`);
  return m[1];
}

const RETAIL = join(root, '../shared/data/uci-online-retail/online_retail.csv.gz');
const MOVIELENS = join(root, '../shared/data/movielens-100k/u.data');

/** Runs an example with 'affinity' pointing at this checkout: what it printed, and what its comments promise. */
async function runExample(name: string): Promise<{ printed: string[]; promised: string[] }> {
  const code = example(name);
  const dir = await mkdtemp(join(tmpdir(), 'affinity-readme-'));
  const file = join(dir, `${name}.mts`);
  const local = code.replace(/from 'affinity\/server'/g, `from ${JSON.stringify(join(root, 'src/server/index.ts'))}`).replace(/from 'affinity'/g, `from ${JSON.stringify(join(root, 'src/index.ts'))}`);
  await writeFile(file, local);
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', file], { cwd: root, timeout: 120_000 });
  // Each console.log line against the figures in its trailing comment.
  const promised = [...code.matchAll(/console\.log\(.*\); \/\/ (.+)$/gm)].map((m) => m[1].trim());
  return { printed: stdout.trim().split('\n'), promised };
}

describe('README examples', () => {
  it.skipIf(!existsSync(RETAIL))('the retail export loads in one call, as README shows it', async () => {
    const { printed, promised } = await runExample('retail');
    expect(printed).toEqual(promised);
  }, 180_000);
  if (!existsSync(RETAIL)) it('(the retail example is skipped: ../shared/data/uci-online-retail is absent)', () => {});

  it.skipIf(!existsSync(MOVIELENS))('the tuning example runs as written', async () => {
    const { printed, promised } = await runExample('tune');
    expect(promised.length).toBe(3);
    expect(printed).toEqual(promised);
  }, 180_000);

  it('the Spark example runs as written', async () => {
    const { printed, promised } = await runExample('spark');
    expect(promised.length).toBe(2);
    expect(printed).toEqual(promised);
  }, 180_000);

  it('the events example runs as written', async () => {
    const { printed, promised } = await runExample('events');
    expect(promised.length).toBe(4);
    expect(printed).toEqual(promised);
  }, 180_000);

  it('the offers example runs as written', async () => {
    const { printed, promised } = await runExample('offers');
    expect(promised.length).toBe(4);
    expect(printed).toEqual(promised);
  }, 180_000);
});
