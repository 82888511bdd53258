#include "spd.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "aligned.h"
#include "error.h"
#include "threadpool.h"
#include "../simd/dispatch.h"

namespace affinity {
namespace {

constexpr size_t kBlock = 256;     // rows factored (and columns solved) per step
constexpr size_t kZ = 6;           // rows of a register tile (gemmTN's z side)
constexpr size_t kY = 16;          // columns of a register tile (its y side)
constexpr size_t kChunk = 8 * kY;  // columns per task: its packed y slab stays in L2
constexpr size_t kSlab = 256;      // rows of z and y per pass over a chunk

size_t tilesOf(size_t n, size_t tile) { return (n + tile - 1) / tile; }

// out[t][j][r] = scale * src[(row0 + j) * ld + col0 + t * tile + r] for j < rows, r < tile (0 past width):
// rows of a column range cut into tiles of `tile` columns, each tile contiguous.
void pack(const float* src, size_t ld, size_t row0, size_t rows, size_t col0, size_t width, size_t tile, float scale,
          std::vector<float>& out) {
  const size_t tiles = tilesOf(width, tile);
  out.assign(tiles * rows * tile, 0.0f);
  for (size_t t = 0; t < tiles; ++t) {
    const size_t c0 = t * tile, w = std::min(tile, width - c0);
    float* dst = out.data() + t * rows * tile;
    for (size_t j = 0; j < rows; ++j) {
      const float* s = src + (row0 + j) * ld + col0 + c0;
      for (size_t r = 0; r < w; ++r) dst[j * tile + r] = scale * s[r];
    }
  }
}

// Cholesky of the diagonal block at (k0, k0), upper form, in double; writes R's block over a's.
bool factorDiagonal(float* a, size_t n, size_t k0, size_t kb, std::vector<double>& d) {
  d.assign(kb * kb, 0.0);
  for (size_t r = 0; r < kb; ++r)
    for (size_t c = r; c < kb; ++c) d[r * kb + c] = a[(k0 + r) * n + k0 + c];
  for (size_t j = 0; j < kb; ++j) {
    double s = d[j * kb + j];
    for (size_t i = 0; i < j; ++i) s -= d[i * kb + j] * d[i * kb + j];
    if (!(s > 0) || !std::isfinite(s)) return false;
    const double rjj = std::sqrt(s);
    d[j * kb + j] = rjj;
    for (size_t c = j + 1; c < kb; ++c) {
      double v = d[j * kb + c];
      for (size_t i = 0; i < j; ++i) v -= d[i * kb + j] * d[i * kb + c];
      d[j * kb + c] = v / rjj;
    }
  }
  for (size_t r = 0; r < kb; ++r)
    for (size_t c = r; c < kb; ++c) a[(k0 + r) * n + k0 + c] = static_cast<float>(d[r * kb + c]);
  return true;
}

// rows[r] = (rows[r] - sum_{r' < r} coeff(r', r) * rows[r']) / coeff(r, r) over columns [0, width), for
// r in [0, count): the forward substitution of a block's triangle, in parallel over column chunks.
template <class Coeff>
void substituteRows(float* rows, size_t ld, size_t count, size_t width, Coeff coeff, int threads, Control& control) {
  const KernelTable& k = activeKernels();
  ThreadPool::instance().parallelFor(
      tilesOf(width, kChunk * 2), threads,
      [&](size_t task) {
        const size_t c0 = task * kChunk * 2, w = std::min(kChunk * 2, width - c0);
        for (size_t r = 0; r < count; ++r) {
          float* row = rows + r * ld + c0;
          for (size_t q = 0; q < r; ++q) k.axpy(-coeff(q, r), rows + q * ld + c0, row, w);
          const float inv = 1.0f / coeff(r, r);
          for (size_t c = 0; c < w; ++c) row[c] *= inv;
        }
      },
      &control);
}

void cholesky(float* a, size_t n, int threads, Control& control) {
  const KernelTable& k = activeKernels();
  std::vector<double> diag;
  std::vector<float> zp, yp;
  for (size_t k0 = 0; k0 < n; k0 += kBlock) {
    const size_t kb = std::min(kBlock, n - k0), k1 = k0 + kb, rest = n - k1;
    require(factorDiagonal(a, n, k0, kb, diag), code::kBadInput, "the matrix is not positive definite");
    control.advance(1);
    if (rest == 0) break;
    float* block = a + k0 * n;
    substituteRows(block + k1, n, kb, rest, [&](size_t q, size_t r) { return block[q * n + k0 + r]; }, threads, control);
    // Trailing update of the upper triangle: A[k1:, k1:] -= Xᵀ X with X the block's solved rows.
    pack(a, n, k0, kb, k1, rest, kZ, -1.0f, zp);
    pack(a, n, k0, kb, k1, rest, kY, 1.0f, yp);
    float* trailing = a + k1 * n + k1;
    ThreadPool::instance().parallelFor(
        tilesOf(rest, kChunk), threads,
        [&](size_t task) {
          const size_t c0 = task * kChunk, c1 = std::min(rest, c0 + kChunk);
          for (size_t x0 = 0; x0 < c1; x0 += kZ) {
            const float* z = zp.data() + (x0 / kZ) * kb * kZ;
            const size_t rows = std::min(kZ, rest - x0);
            for (size_t cc = c0; cc < c1; cc += kY) {
              if (cc + kY <= x0) continue;  // wholly below the diagonal
              k.gemmTN(z, kZ, yp.data() + (cc / kY) * kb * kY, kY, kb, rows, std::min(kY, rest - cc), trailing + x0 * n + cc, n);
            }
          }
        },
        &control);
  }
}

// W = R⁻ᵀ (lower), row block by row block, into wp: tiles of kY columns, each n rows (wp[t][k][c]).
void inverseFactor(const float* r, size_t n, UninitializedVector<float>& wp, int threads, Control& control) {
  const KernelTable& k = activeKernels();
  wp.resize(tilesOf(n, kY) * n * kY);
  ThreadPool::instance().parallelFor(
      tilesOf(n, kY), threads, [&](size_t t) { std::fill(wp.data() + t * n * kY, wp.data() + (t + 1) * n * kY, 0.0f); }, &control);
  std::vector<float> t, zr;
  for (size_t i0 = 0; i0 < n; i0 += kBlock) {
    const size_t ib = std::min(kBlock, n - i0), i1 = i0 + ib;
    // T = E - R[0:i0, I]ᵀ W[0:i0, 0:i0]: the rows of the identity minus what earlier rows of W account for.
    t.assign(ib * i1, 0.0f);
    for (size_t x = 0; x < ib; ++x) t[x * i1 + i0 + x] = 1.0f;
    if (i0 > 0) {
      pack(r, n, 0, i0, i0, ib, kZ, -1.0f, zr);
      const size_t tiles = i0 / kY, perTask = kChunk / kY;
      ThreadPool::instance().parallelFor(
          tilesOf(tiles, perTask), threads,
          [&](size_t task) {
            const size_t t0 = task * perTask, t1 = std::min(tiles, t0 + perTask);
            for (size_t s0 = t0 * kY; s0 < i0; s0 += kSlab)  // W[k][c] = 0 for k < c: start at the chunk's first column
              for (size_t x0 = 0; x0 < ib; x0 += kZ)
                for (size_t ct = t0; ct < t1; ++ct) {
                  const size_t kstart = std::max(s0, ct * kY), kend = std::min(i0, s0 + kSlab);
                  if (kstart >= kend) continue;
                  k.gemmTN(zr.data() + (x0 / kZ) * i0 * kZ + kstart * kZ, kZ, wp.data() + ct * n * kY + kstart * kY, kY, kend - kstart,
                           std::min(kZ, ib - x0), kY, t.data() + x0 * i1 + ct * kY, i1);
                }
          },
          &control);
    }
    // Rᵀ_II W_I = T: forward substitution within the block.
    substituteRows(t.data(), i1, ib, i1, [&](size_t q, size_t x) { return r[(i0 + q) * n + i0 + x]; }, threads, control);
    for (size_t ct = 0; ct < tilesOf(i1, kY); ++ct)
      for (size_t x = 0; x < ib; ++x) {
        float* dst = wp.data() + ct * n * kY + (i0 + x) * kY;
        for (size_t c = ct * kY; c < std::min(i1, ct * kY + kY); ++c) dst[c - ct * kY] = t[x * i1 + c];
      }
    control.advance(1);
  }
}

// a = Wᵀ W (upper triangle by tiles, then mirrored): P[x][c] = sum_{k >= max(x, c)} W[k][x] W[k][c].
void gramOfFactor(const UninitializedVector<float>& wp, size_t n, float* a, int threads, Control& control) {
  const KernelTable& k = activeKernels();
  std::fill(a, a + n * n, 0.0f);
  const size_t tiles = tilesOf(n, kY), perTask = kChunk / kY;
  ThreadPool::instance().parallelFor(
      tilesOf(tiles, perTask), threads,
      [&](size_t task) {
        const size_t t0 = task * perTask, t1 = std::min(tiles, t0 + perTask);
        for (size_t s0 = t0 * kY; s0 < n; s0 += kSlab)
          for (size_t xt = 0; xt < t1; ++xt)
            for (size_t off = 0; off < kY && xt * kY + off < n; off += kZ) {
              const size_t x0 = xt * kY + off, rows = std::min({kZ, kY - off, n - x0});
              for (size_t ct = std::max(t0, xt); ct < t1; ++ct) {
                const size_t kstart = std::max(s0, ct * kY), kend = std::min(n, s0 + kSlab);
                if (kstart >= kend) continue;
                k.gemmTN(wp.data() + xt * n * kY + kstart * kY + off, kY, wp.data() + ct * n * kY + kstart * kY, kY, kend - kstart, rows,
                         std::min(kY, n - ct * kY), a + x0 * n + ct * kY, n);
              }
            }
        control.advance(static_cast<int64_t>(t1 - t0));
      },
      &control);
  for (size_t x = 0; x < n; ++x)
    for (size_t c = x + 1; c < n; ++c) a[c * n + x] = a[x * n + c];
}

}  // namespace

size_t invertSpdScratchBytes(size_t n) {
  return (tilesOf(n, kY) * kY * n + kBlock * n + 2 * tilesOf(n, kZ) * kZ * kBlock + n * kBlock) * sizeof(float);
}

void invertSpd(float* a, size_t n, int threads, Control& control, SpdInverseStats* stats) {
  const auto start = std::chrono::steady_clock::now();
  const size_t blocks = tilesOf(n, kBlock);
  control.setTotal(static_cast<int64_t>(2 * blocks + tilesOf(n, kY)));
  for (size_t i = 0; i < n; ++i)
    for (size_t j = i; j < n; ++j) require(std::isfinite(a[i * n + j]), code::kBadInput, "the matrix has a value that is not finite");
  cholesky(a, n, threads, control);
  UninitializedVector<float> wp;
  inverseFactor(a, n, wp, threads, control);
  gramOfFactor(wp, n, a, threads, control);
  if (stats) {
    stats->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    stats->flops = static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n);
  }
}

bool invertSpd(double* a, int32_t n) {
  const size_t N = n;
  std::vector<double> l(N * N, 0.0);
  for (size_t j = 0; j < N; ++j) {
    double s = a[j * N + j];
    for (size_t p = 0; p < j; ++p) s -= l[j * N + p] * l[j * N + p];
    if (!(s > 0)) return false;
    l[j * N + j] = std::sqrt(s);
    for (size_t i = j + 1; i < N; ++i) {
      double t = a[i * N + j];
      for (size_t p = 0; p < j; ++p) t -= l[i * N + p] * l[j * N + p];
      l[i * N + j] = t / l[j * N + j];
    }
  }
  // A^-1 = L^-T L^-1, one column of the identity at a time.
  std::vector<double> y(N);
  for (size_t c = 0; c < N; ++c) {
    for (size_t i = 0; i < N; ++i) {
      double s = i == c ? 1.0 : 0.0;
      for (size_t p = 0; p < i; ++p) s -= l[i * N + p] * y[p];
      y[i] = s / l[i * N + i];
    }
    for (size_t i = N; i-- > 0;) {
      double s = y[i];
      for (size_t p = i + 1; p < N; ++p) s -= l[p * N + i] * y[p];
      y[i] = s / l[i * N + i];
    }
    for (size_t i = 0; i < N; ++i) a[i * N + c] = y[i];
  }
  return true;
}

}  // namespace affinity
