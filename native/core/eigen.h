// Eigen decomposition of small dense symmetric matrices (f x f, f up to a thousand): Householder reduction
// to tridiagonal form, then the implicit QL method, in double.
#pragma once
#include <cstddef>
#include <vector>

namespace affinity {

// a: n x n, symmetric, row-major (only the lower triangle is read). On success values[j] and the unit row
// vectors[j * n .. j * n + n) are an eigenpair (A v_j = values[j] v_j), the rows orthonormal, in no
// particular order. Returns false if the QL iteration has not converged after 60 sweeps of one eigenvalue
// (a bound, never reached for finite symmetric input in practice).
bool symmetricEigen(size_t n, const std::vector<double>& a, std::vector<double>& values, std::vector<double>& vectors);

}  // namespace affinity
