import { parseArgs } from 'node:util';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../io/files.js';
import { writeNpy } from '../../io/npy.js';
import { resolveSimilarityOptions, similarity as computeSimilarity, type Measure, type SimilarityMatrix } from '../../models/similarity.js';
import { COMMON, DATA_HELP, loadData, num, usage, type Command } from '../common.js';
import { progress } from '../progress.js';

export const similarity: Command = {
  help: `usage: affinity similarity --data FILE --out DIR [options]

${DATA_HELP}
  --axis items|users  default items
  --measure NAME      cosine (default), pearson, jaccard, dot, lift
  --weighting NAME    none (default), tfidf, bm25
  --k N               neighbours per row (default 50)
  --shrink X          default 0

Writes indptr.npy, indices.npy, data.npy (the top-K CSR) and ids.json to DIR.`,
  async run(args) {
    const { values } = parseArgs({ args, options: { ...COMMON, out: { type: 'string' }, axis: { type: 'string' }, k: { type: 'string' }, shrink: { type: 'string' } } });
    if (values.help) return console.log(this.help), 0;
    if (!values.out) throw usage('--out is required');
    const options = {
      axis: values.axis as 'items' | 'users' | undefined,
      measure: values.measure as Measure | undefined,
      weighting: values.weighting as 'none' | undefined,
      k: num(values.k, 'k'),
      shrink: num(values.shrink, 'shrink'),
      threads: num(values.threads, 'threads'),
    };
    resolveSimilarityOptions(options); // before the file is read
    const data = await loadData(values);
    const started = performance.now();
    const sim = (await computeSimilarity(data, { ...options, onProgress: progress.bar('similarity') })) as SimilarityMatrix;
    const seconds = (performance.now() - started) / 1000;
    await mkdir(values.out, { recursive: true });
    await writeNpy(join(values.out, 'indptr.npy'), sim.indptr);
    await writeNpy(join(values.out, 'indices.npy'), sim.indices);
    await writeNpy(join(values.out, 'data.npy'), sim.data);
    await writeFileAtomic(join(values.out, 'ids.json'), Buffer.from(JSON.stringify(sim.ids.ids)));
    console.log(`${sim.size} rows, ${sim.indices.length} neighbours in ${seconds.toFixed(2)} s -> ${values.out}`);
    return 0;
  },
};
