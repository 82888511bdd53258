// The normal equations of ALS rows written from their definitions: the reference the solver's rows are
// checked against (als.test.ts, forget.test.ts).
import type { ALS, Interactions } from '../src/index.js';

// Dense reference: the normal equations of one user, written from the definitions.
function userSystem(model: ALS, data: Interactions, u: number) {
  const f = model.options.factors;
  const lambda = model.options.regularization;
  const Y = model.itemFactors;
  const implicit = model.options.feedback === 'implicit';
  const biases = !implicit && model.options.biases;
  const d = biases ? f + 1 : f;
  const A = Array.from({ length: d }, () => new Float64Array(d));
  const b = new Float64Array(d);
  const row = (i: number) => {
    const y = Array.from(Y.subarray(i * f, (i + 1) * f));
    return biases ? [...y, 1] : y;
  };
  if (implicit) for (let i = 0; i < data.itemCount; i++) {
    const y = row(i);
    for (let a = 0; a < f; a++) for (let c = 0; c < f; c++) A[a][c] += y[a] * y[c];
  }
  const csr = data.csr;
  // Ratings that scale lambda: every one (explicit), the positive ones (implicit, as Spark counts); at least 1.
  let count = 0;
  for (let p = csr.indptr[u]; p < csr.indptr[u + 1]; p++) if (!implicit || csr.data[p] > 0) count++;
  count = Math.max(count, 1);
  for (let p = csr.indptr[u]; p < csr.indptr[u + 1]; p++) {
    const i = csr.indices[p];
    const y = row(i);
    const r = csr.data[p];
    const w = implicit ? model.options.alpha * r : 1;
    const t = implicit ? 1 + model.options.alpha * r : biases ? r - model.factors.globalMean - model.factors.itemBias![i] : r;
    for (let a = 0; a < d; a++) {
      for (let c = 0; c < d; c++) A[a][c] += w * y[a] * y[c];
      b[a] += t * y[a];
    }
  }
  const reg = model.options.scaleRegularization ? lambda * count : lambda;
  for (let a = 0; a < d; a++) A[a][a] += reg;
  return { A, b, d };
}

/** How far user row u is from solving its normal equations (relative). */
export function residual(model: ALS, data: Interactions, u: number): number {
  const { A, b, d } = userSystem(model, data, u);
  const f = model.options.factors;
  const x = [...model.userFactors.subarray(u * f, (u + 1) * f)];
  if (d > f) x.push(model.factors.userBias![u]);
  let num = 0;
  let den = 0;
  for (let a = 0; a < d; a++) {
    let s = 0;
    for (let c = 0; c < d; c++) s += A[a][c] * x[c];
    num += (s - b[a]) ** 2;
    den += b[a] ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

