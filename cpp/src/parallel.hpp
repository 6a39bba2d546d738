// The engine's one parallel primitive (internal header): a fixed pool of worker threads and a parallel for
// over contiguous ranges.
//
// Determinism: parallelFor only decides WHICH thread computes a range of indices, never how a value is
// computed. Callers split work over independent outputs (rows, columns, channels, chunks of positions) and
// never split a reduction, so results are bit-identical for any thread count.
//
// The range is cut into a fixed set of contiguous pieces (a function of its length, the grain and the thread
// count); threads claim pieces one at a time, the caller too. Claiming rather than a fixed piece per thread
// keeps a descheduled worker (a machine shared with other processes) from stalling the caller: it takes the
// pieces the worker did not start.
//
// Builds: with LRP_THREADS (native builds and the pthreads WebAssembly build) the pool holds threadCount() − 1
// std::threads; without it (the single-thread WebAssembly build) parallelFor is a plain loop and
// setThreadCount accepts only 1.
#pragma once

#include "lrp/threads.hpp"  // setThreadCount, threadCount, maxThreadCount
#include "lrp/types.hpp"    // Matrix

#include <algorithm>
#include <atomic>
#include <cstring>
#include <cstdint>
#include <functional>

namespace lrp {

namespace detail {
// Runs body(piece) for every piece in [0, pieces), each once, on the pool's threads and the caller, and returns
// when all are done; rethrows the first exception a piece threw. Nested calls (from inside a piece) run serially.
void runPieces(int64_t pieces, const std::function<void(int64_t)>& body);
bool insideParallelRegion();
}  // namespace detail

// Pieces per thread: more than one, so that threads that finish early (or start late) even out.
constexpr int64_t kPiecesPerThread = 8;

// Calls fn(lo, hi) on disjoint contiguous ranges that cover [begin, end): at most kPiecesPerThread ·
// threadCount() ranges, each at least `grain` long (except the last one, a remainder), every boundary
// except `end` a multiple of `align` after `begin` (e.g. 4 to keep SIMD blocks whole). Runs fn(begin, end) on
// the caller when one range suffices.
template <typename F>
void parallelFor(int64_t begin, int64_t end, int64_t grain, F&& fn, int64_t align = 1) {
  const int64_t n = end - begin;
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  if (align < 1) align = 1;
  const int threads = threadCount();
  int64_t pieces = n / grain;
  if (pieces > kPiecesPerThread * threads) pieces = kPiecesPerThread * threads;
  if (threads <= 1 || pieces <= 1 || detail::insideParallelRegion()) {
    fn(begin, end);
    return;
  }
  // Equal shares rounded up to a multiple of `align`; trailing pieces may be empty and are skipped.
  int64_t share = (n + pieces - 1) / pieces;
  share = (share + align - 1) / align * align;
  pieces = (n + share - 1) / share;
  detail::runPieces(pieces, [&](int64_t piece) {
    const int64_t lo = begin + share * piece;
    const int64_t hi = lo + share < end ? lo + share : end;
    fn(lo, hi);
  });
}

// The element-wise passes (activations, the relevance kernel's divisions and sums): calls fn(lo, n) on disjoint
// segments [lo, lo + n) that cover [0, size), each at least `grain` long and starting at a multiple of 16 elements.
// A segment runs the same Eigen array expression the whole array would, so it stays SIMD-vectorised, and its
// 4-wide packets start at the same elements as the whole array's (so even Eigen's vectorised exp, whose packets
// and scalar tail may round differently, gives every element the same bits for any thread count).
template <typename F>
void forSegments(int64_t size, int64_t grain, F&& fn) {
  parallelFor(0, size, grain, [&](int64_t lo, int64_t hi) {
    fn(static_cast<Eigen::Index>(lo), static_cast<Eigen::Index>(hi - lo));
  }, 16);
}

// A segment of a matrix's values (column-major, all samples), as the Eigen array forSegments' passes work on.
using Segment = Eigen::Map<Eigen::ArrayXf>;
using ConstSegment = Eigen::Map<const Eigen::ArrayXf>;
inline Segment segment(Matrix& m, Eigen::Index lo, Eigen::Index n) { return Segment(m.data() + lo, n); }
inline ConstSegment segment(const Matrix& m, Eigen::Index lo, Eigen::Index n) { return ConstSegment(m.data() + lo, n); }

// Whether every value of m is finite, the non-finite checks of every forward and backward step. A float is ±∞ or
// NaN exactly when its exponent bits are all ones, i.e. when |bits| (sign cleared) >= 0x7f800000: the largest |bits|
// is an unsigned-integer max, which the compiler vectorises (SIMD) — a float reduction or Eigen's isFinite().all()
// stays a scalar loop in wasm, where Eigen has no packets and float sums may not be reordered. On threads'
// segments when m is large (a scan is memory-bound: only big matrices are worth a hand-off).
inline bool finiteValues(const float* values, int64_t n) {
  uint32_t largest = 0;
  for (int64_t i = 0; i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, values + i, sizeof bits);
    largest = std::max(largest, bits & 0x7fffffffu);
  }
  return largest < 0x7f800000u;
}

inline bool allFinite(const Matrix& m) {
  constexpr int64_t kScanGrain = int64_t{1} << 16;
  if (m.size() < 2 * kScanGrain) return finiteValues(m.data(), m.size());
  std::atomic<bool> finite{true};
  forSegments(m.size(), kScanGrain, [&](Eigen::Index lo, Eigen::Index n) {
    if (!finiteValues(m.data() + lo, n)) finite.store(false, std::memory_order_relaxed);
  });
  return finite.load();
}

}  // namespace lrp
