// A consumer's TypeScript project that imports both entry points of the built package (dist/), as a strict
// service would: nodenext, skipLibCheck false, exactOptionalPropertyTypes. Used by bench/typecheck.ts
// (how long the consumer's type-check takes) and test/package.test.ts (that it compiles at all, and which
// declaration files it pulls in).
import { mkdtemp, mkdir, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));

const SERVICE = `import Fastify from 'fastify';
import { ALS, Interactions, Transactions, loadModel, type Recommendation } from 'affinity';
import { affinity, affinityOf, buildApp, serve, type WithAffinity } from 'affinity/server';

export async function main(): Promise<void> {
  const data = await Interactions.fromFile('events.csv', { columns: { user: 'user', item: 'item' }, value: 'binary' });
  const model = await new ALS({ factors: 32 }).fit(data);
  const recs: Recommendation[] = model.recommend('u1', { k: 5 });
  await model.save('model.affinity');
  const tx = await Transactions.fromFile('lines.csv', { columns: { customer: 'CustomerID', item: 'StockCode', time: 'InvoiceDate' }, where: { Quantity: { gt: 0 } } });
  console.log(recs, tx.size, (await loadModel('model.affinity')).kind);

  const app = Fastify();
  await app.register(affinity, { prefix: '/recs', models: { als: 'model.affinity' }, adminToken: process.env.AFFINITY_ADMIN_TOKEN, catalog: process.env.CATALOG });
  console.log(affinityOf(app).registry.size);
  const own: WithAffinity = await buildApp({ models: { als: 'model.affinity' }, adminToken: process.env.AFFINITY_ADMIN_TOKEN });
  console.log(own.affinity.registry.size);
  await serve({ models: { als: 'model.affinity' }, port: Number(process.env.PORT ?? 8080), adminToken: process.env.AFFINITY_ADMIN_TOKEN });
}
`;

/** Writes the project into a fresh directory and returns it; tsc -p <dir> checks it. */
export async function consumerProject() {
  const dir = await mkdtemp(join(tmpdir(), 'affinity-consumer-'));
  await mkdir(join(dir, 'node_modules', '@types'), { recursive: true });
  await symlink(root, join(dir, 'node_modules', 'affinity'), 'dir');
  await symlink(join(root, 'node_modules', 'fastify'), join(dir, 'node_modules', 'fastify'), 'dir');
  await symlink(join(root, 'node_modules', '@types', 'node'), join(dir, 'node_modules', '@types', 'node'), 'dir');
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  await writeFile(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, exactOptionalPropertyTypes: true, skipLibCheck: false, noEmit: true, types: ['node'] },
      files: ['service.ts'],
    }),
  );
  await writeFile(join(dir, 'service.ts'), SERVICE);
  return dir;
}

export const tscPath = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
