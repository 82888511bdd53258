// List requests (batches, scores, propensity, segments) answer for the ids a model knows and report the
// others in `unknown`: one new SKU or customer never fails the whole list. Single-id requests answer 404.
import { resolveId, type Id, type IdMap } from '../data/ids.js';

/**
 * The ids of a list the model knows (as it spells them) and the ones it does not: list requests answer for
 * the known ones and report the others, rather than failing on one new SKU or customer.
 */
export function partition(ids: IdMap, list: Id[]): { found: Id[]; asked: Id[]; unknown: Id[] } {
  const found: Id[] = [];
  const asked: Id[] = [];
  const unknown: Id[] = [];
  for (const id of list) {
    const f = resolveId(ids, id);
    if (f === undefined) unknown.push(id);
    else found.push(f), asked.push(id);
  }
  return { found, asked, unknown };
}

