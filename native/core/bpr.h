// Bayesian personalized ranking (Rendle et al. 2009): SGD on ln σ(x_u · (y_i - y_j)) over sampled triples
// (a user, an item of theirs, an item sampled uniformly), lock-free across threads (Hogwild: updates race
// on rows shared by concurrent samples, which SGD tolerates; one thread is deterministic).
// Item vectors carry a bias as their last component, whose user component is fixed at 1, so the model
// scores as a plain factor model (x_u · y_i) and serves through the ALS scans.
#pragma once
#include <cstdint>
#include <vector>

#include "control.h"
#include "sparse.h"

namespace affinity {

struct BprOptions {
  int32_t factors = 64;  // latent dimensions, before the bias component
  int32_t epochs = 100;
  double learningRate = 0.01;
  double regularization = 0.01;
  double learningRateDecay = 0;  // epoch e steps with learningRate / (1 + decay * e)
  bool verifyNegatives = true;   // resample-free check: a sampled "negative" the user has is skipped
  uint32_t seed = 42;
  int threads = 0;
};

struct BprFit {
  int32_t width = 0;                  // factors + 1
  std::vector<float> userFactors;     // users x width, last component 1
  std::vector<float> itemFactors;     // items x width, last component the bias
  std::vector<double> correct;        // per epoch: the share of sampled triples ranked right before their step
  int64_t skipped = 0;                // samples whose negative was a positive
};

// One step on (x_u, y_i, y_j) of `width` components (the last one the bias): returns x_uij before it.
// `scratch` holds 2 * width floats.
float bprStep(float* xu, float* yi, float* yj, size_t width, float learningRate, float regularization, float* scratch);

// Fits on interactions (users x items, rows sorted); Control::event gets (epoch, correct share).
BprFit bprFit(const CsrView& data, const BprOptions& options, Control& control);

}  // namespace affinity
