// Request and response schemas (TypeBox). Unknown fields are rejected, sizes are capped.
import { Type } from 'typebox';

export const LIMITS = { k: 1000, batchUsers: 1000, listItems: 1000, idLength: 256 } as const;

export const Id = Type.Union([Type.String({ minLength: 1, maxLength: LIMITS.idLength }), Type.Number()], { description: 'A user or item id' });
const IdList = Type.Array(Id, { maxItems: LIMITS.listItems });
const K = Type.Integer({ minimum: 1, maximum: LIMITS.k, default: 10 });
const ModelName = Type.String({ minLength: 1, maxLength: 128, description: 'Model name (default: the first model)' });

export const ErrorResponse = Type.Object({
  statusCode: Type.Integer(),
  code: Type.String(),
  error: Type.String(),
  message: Type.String(),
});

const Item = Type.Object({ item: Id, score: Type.Number() });
const Served = { model: Type.String(), version: Type.Integer() };

export const RecommendBody = Type.Object(
  {
    model: Type.Optional(ModelName),
    user: Id,
    k: Type.Optional(K),
    filterSeen: Type.Optional(Type.Boolean({ default: true })),
    exclude: Type.Optional(IdList),
    include: Type.Optional(IdList),
    fallback: Type.Optional(Type.Union([Type.Literal('none'), Type.Literal('popular')], { default: 'none' })),
  },
  { additionalProperties: false },
);
export const RecommendReply = Type.Object({ ...Served, user: Id, fallback: Type.Boolean(), items: Type.Array(Item) });

export const BatchBody = Type.Object(
  { model: Type.Optional(ModelName), users: Type.Array(Id, { minItems: 1, maxItems: LIMITS.batchUsers }), k: Type.Optional(K) },
  { additionalProperties: false },
);
export const BatchReply = Type.Object({ ...Served, results: Type.Array(Type.Object({ user: Id, items: Type.Array(Item) })) });

export const AnonymousBody = Type.Object(
  {
    model: Type.Optional(ModelName),
    items: Type.Array(Id, { minItems: 1, maxItems: LIMITS.listItems }),
    values: Type.Optional(Type.Array(Type.Number(), { maxItems: LIMITS.listItems })),
    k: Type.Optional(K),
    exclude: Type.Optional(IdList),
  },
  { additionalProperties: false },
);
export const AnonymousReply = Type.Object({ ...Served, items: Type.Array(Item) });

export const ScoreBody = Type.Object(
  { model: Type.Optional(ModelName), user: Id, items: Type.Array(Id, { minItems: 1, maxItems: LIMITS.listItems }) },
  { additionalProperties: false },
);
export const ScoreReply = Type.Object({ ...Served, user: Id, scores: Type.Array(Item) });

export const SimilarItemsBody = Type.Object({ model: Type.Optional(ModelName), item: Id, k: Type.Optional(K) }, { additionalProperties: false });
export const SimilarUsersBody = Type.Object({ model: Type.Optional(ModelName), user: Id, k: Type.Optional(K) }, { additionalProperties: false });
export const SimilarReply = Type.Object({ ...Served, neighbors: Type.Array(Type.Object({ id: Id, score: Type.Number() })) });

export const ModelInfo = Type.Object({
  name: Type.String(),
  kind: Type.String(),
  version: Type.Integer(),
  users: Type.Integer(),
  items: Type.Integer(),
  loadedAt: Type.String(),
  reloadable: Type.Boolean(),
});
export const ModelsReply = Type.Object({ models: Type.Array(ModelInfo) });
export const ReloadParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 128 }) });
export const HealthReply = Type.Object({ status: Type.String(), models: Type.Optional(Type.Integer()) });

/** A response schema for every status a route can answer. */
export function replies<T>(ok: T) {
  return { 200: ok, 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 413: ErrorResponse, 422: ErrorResponse, 500: ErrorResponse, 503: ErrorResponse };
}
