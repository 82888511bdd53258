// Bootstrap resamples of a mean or a ratio of sums: the intervals of off-policy estimates.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "control.h"

namespace affinity {

// For each of `resamples` draws of n rows with replacement: the mean of term over the drawn rows, or,
// with weight, sum(term) / sum(weight) (self-normalized estimators; 0 when the weights sum to 0).
// Resample b draws from its own generator seeded from (seed, b), so the draws do not depend on threads.
std::vector<double> bootstrapMeans(std::span<const double> term, std::span<const double> weight, int32_t resamples, uint32_t seed,
                                   int threads, Control& control);

}  // namespace affinity
