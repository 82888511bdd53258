// What a request asks of the catalogue: a filter on item attributes (applied inside the scans) and the
// attributes to return with each item. One catalogue snapshot serves a whole request, across reloads.
import { AffinityError, ErrorCode } from '../core/errors.js';
import type { Catalog, Attributes } from '../data/catalog.js';
import type { FilterSpec, ItemFilter } from '../data/filter.js';
import type { Id } from '../data/ids.js';
import type { Metrics } from './metrics.js';
import type { ModelRegistry } from './registry.js';

export interface ItemQuery {
  filter?: FilterSpec;
  fields?: string[];
}

export interface CatalogView {
  /** The compiled filter for the models' options (undefined without one). */
  filter?: ItemFilter;
  /** The items of an answer with their attributes, when the request asked for fields. */
  attach<T>(list: T[], idOf: (t: T) => Id): (T & { attributes?: Attributes })[];
  /** The attributes of one item, or undefined (not asked for, or not in the catalogue: counted). */
  attributesOf(id: Id): Attributes | undefined;
}

const PLAIN: CatalogView = { attach: <T>(list: T[]) => list as (T & { attributes?: Attributes })[], attributesOf: () => undefined };

export function catalogView(registry: ModelRegistry, metrics: Metrics, query: ItemQuery): CatalogView {
  if (query.filter === undefined && query.fields === undefined) return PLAIN;
  const catalog: Catalog | undefined = registry.catalog?.catalog;
  if (!catalog) throw new AffinityError('this server has no product catalogue: start it with --catalog FILE to filter on attributes or return them', ErrorCode.Unsupported);
  const filter = query.filter === undefined ? undefined : catalog.filter(query.filter);
  const fields = query.fields;
  if (fields) catalog.checkFields(fields);
  const attributesOf = (id: Id): Attributes | undefined => {
    if (!fields) return undefined;
    const a = catalog.attributesOf(id, fields);
    if (!a) metrics.catalogMissing.add({}, 1);
    return a;
  };
  return {
    filter,
    attributesOf,
    attach: <T>(list: T[], idOf: (t: T) => Id) =>
      list.map((t): T & { attributes?: Attributes } => {
        const attributes = attributesOf(idOf(t));
        return attributes ? { ...t, attributes } : (t as T & { attributes?: Attributes });
      }),
  };
}
