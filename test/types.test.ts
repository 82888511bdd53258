// The public types, checked at compile time (vitest typechecks expectTypeOf through tsc-compatible inference).
import { describe, expectTypeOf, it } from 'vitest';
import {
  ALS,
  AffinityError,
  BatchRecommendations,
  Interactions,
  ItemKNN,
  UserKNN,
  loadModel,
  loadRecommender,
  type AnyModel,
  similarity,
  split,
  evaluate,
  type Capabilities,
  type Evaluation,
  type Explanation,
  type Id,
  type Model,
  type Neighbor,
  type Recommendation,
  type Recommender,
  type SimilarityOptions,
  capabilities,
} from '../src/index.js';
import { buildApp, ModelRegistry } from '../src/server/index.js';

describe('public types', () => {
  it('models share the recommend surface', () => {
    expectTypeOf<ItemKNN['recommend']>().returns.toEqualTypeOf<Recommendation[]>();
    expectTypeOf<UserKNN['recommend']>().returns.toEqualTypeOf<Recommendation[]>();
    expectTypeOf<ALS['recommend']>().returns.toEqualTypeOf<Recommendation[]>();
    expectTypeOf<ALS['recommendBatch']>().returns.resolves.toEqualTypeOf<BatchRecommendations>();
    expectTypeOf<ALS['explain']>().returns.toEqualTypeOf<Explanation>();
    expectTypeOf<ItemKNN['similarItems']>().returns.toEqualTypeOf<Neighbor[]>();
    expectTypeOf<Recommendation['item']>().toEqualTypeOf<Id>();
    expectTypeOf(loadModel).returns.resolves.toEqualTypeOf<AnyModel>();
    expectTypeOf(loadRecommender).returns.resolves.toEqualTypeOf<Recommender>();
  });

  it('entry points take typed options and return typed results', () => {
    expectTypeOf(Interactions.fromArrays).returns.resolves.toEqualTypeOf<Interactions>();
    expectTypeOf(similarity).parameter(1).toEqualTypeOf<SimilarityOptions | undefined>();
    expectTypeOf(split).returns.resolves.toEqualTypeOf<{ train: Interactions; test: Interactions }>();
    expectTypeOf(evaluate).returns.resolves.toEqualTypeOf<Evaluation>();
    expectTypeOf(capabilities).returns.toEqualTypeOf<Capabilities>();
    expectTypeOf<AffinityError['code']>().toBeString();
    expectTypeOf(buildApp).returns.resolves.toHaveProperty('inject');
    expectTypeOf<ModelRegistry['get']>().parameter(0).toEqualTypeOf<string | undefined>();
    // Compile-time only: never called.
    const unknownMeasure = () =>
      // @ts-expect-error: measures are a closed set
      similarity({} as Interactions, { measure: 'euclidean' });
    expectTypeOf(unknownMeasure).toBeFunction();
  });
});
