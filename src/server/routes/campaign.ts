// Campaign models over HTTP: /v1/predict (a decision tree or random forest on feature rows) and /v1/uplift
// (an uplift model on feature rows or on the customers it keeps). Rows are encoded with the schema the model
// was trained with; predictions run as native jobs, off the event loop.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DecisionTree, RandomForest } from '../../analytics/trees.js';
import { UpliftModel, type UpliftPrediction } from '../../analytics/uplift.js';
import { AffinityError, ErrorCode, badInput } from '../../core/errors.js';
import { encodeRecords } from '../../data/featuretable.js';
import type { AffinityContext } from '../context.js';
import * as S from '../schemas.js';

export const campaignRoutes: FastifyPluginAsyncTypebox<AffinityContext> = async (app, { registry, engine }) => {
  app.post('/predict', { schema: { tags: ['campaigns'], operationId: 'predict', body: S.PredictBody, response: S.replies(S.PredictReply) } }, async (request) => {
    const entry = registry.ofKind([RandomForest.kind, DecisionTree.kind], request.body.model, 'forest or tree');
    const model = entry.model as RandomForest | DecisionTree;
    if (!model.schema) throw new AffinityError(`model ${entry.name} was trained on a matrix, not a feature table: it cannot read named feature rows`, ErrorCode.Unsupported);
    const rows = encodeRecords(model.schema, request.body.rows);
    const out = await engine.run('predict', () => model.predictRaw(rows));
    const k = out.length / rows.rows;
    const results = Array.from({ length: rows.rows }, (_, r) => {
      const row = Array.from(out.subarray(r * k, (r + 1) * k));
      if (model.task === 'regression') return { value: row[0] };
      return { label: model.classes[row.indexOf(Math.max(...row))], probabilities: row };
    });
    return { model: entry.name, task: model.task, ...(model.task === 'classification' ? { classes: model.classes } : {}), results };
  });

  app.post('/uplift', { schema: { tags: ['campaigns'], operationId: 'uplift', body: S.UpliftBody, response: S.replies(S.UpliftReply) } }, async (request) => {
    const entry = registry.ofKind([UpliftModel.kind], request.body.model, UpliftModel.kind);
    const model = entry.model as UpliftModel;
    const { customers, rows } = request.body;
    if ((customers === undefined) === (rows === undefined)) throw badInput('give exactly one of customers or rows');
    const shape = (p: UpliftPrediction, ids?: (string | number)[]) => {
      const k = p.arms.length;
      return Array.from(p.best, (b, r) => ({
        ...(ids ? { customer: ids[r] } : {}),
        uplift: Array.from(p.uplift.subarray(r * k, (r + 1) * k)),
        best: p.arms[b],
        contact: p.uplift[r * k + b] > 0,
      }));
    };
    if (rows) {
      const p = await engine.run('uplift', () => model.predict(encodeRecords(model.schema!, rows)));
      return { model: entry.name, arms: p.arms, results: shape(p), unknown: [] };
    }
    const p = await engine.run('uplift', () => model.scoreCustomers(customers!));
    return { model: entry.name, arms: p.arms, results: shape(p, p.customers), unknown: p.unknown };
  });
};
