// Coalesces concurrent plain recommendations (default filters) into one native batch: one job, one pass
// over the item factors for up to 64 users, instead of one of each per request. Results are identical to
// single calls (same multiply-add chains; top-k of a larger k is cut by a total order). At most
// `maxInFlight` batches run at once (one per core by default): more would only fight over the cores,
// while requests that wait meanwhile join the next, larger batch.
import { capabilities } from '../index.js';
import type { Id } from '../data/ids.js';
import type { Recommendation, Recommender } from '../models/contract.js';

interface Pending {
  user: Id;
  k: number;
  resolve: (r: Recommendation[]) => void;
  reject: (e: unknown) => void;
}

export class RecommendBatcher {
  private queue: Pending[] = [];
  private scheduled = false;
  private running = 0;

  constructor(
    private readonly model: Pick<Recommender, 'recommendBatch'>,
    private readonly maxBatch = 64,
    private readonly maxInFlight = Math.max(1, capabilities().threads),
  ) {}

  recommend(user: Id, k: number): Promise<Recommendation[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ user, k, resolve, reject });
      if (this.queue.length >= this.maxBatch) this.flush();
      else this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.queue.length > 0 && this.running < this.maxInFlight) {
      const batch = this.queue.splice(0, this.maxBatch);
      const k = Math.max(...batch.map((p) => p.k));
      this.running++;
      this.model
        .recommendBatch(batch.map((p) => p.user), { k, threads: 1 })
        .then(
          (r) => batch.forEach((p, i) => p.resolve(r.get(i).slice(0, p.k))),
          (err) => batch.forEach((p) => p.reject(err)),
        )
        .finally(() => {
          this.running--;
          this.flush();
        });
    }
  }
}

const batchers = new WeakMap<object, RecommendBatcher>();

/** One batcher per model object: a reloaded model gets a fresh one, the old drains with the old model. */
export function batcherFor(model: Pick<Recommender, 'recommendBatch'>): RecommendBatcher {
  let b = batchers.get(model);
  if (!b) batchers.set(model, (b = new RecommendBatcher(model)));
  return b;
}
