// The engine's one parallel primitive (internal header): a fixed pool of worker threads and a parallel for
// with static contiguous partitioning.
//
// Determinism: parallelFor only decides WHICH thread computes a range of indices, never how a value is
// computed. Callers split work over independent outputs (rows, columns, channels, chunks of positions) and
// never split a reduction, so results are bit-identical for any thread count.
//
// Builds: with LRP_THREADS (native builds and the pthreads WebAssembly build) the pool holds threadCount() − 1
// std::threads and the calling thread takes the first part; without it (the single-thread WebAssembly build)
// parallelFor is a plain loop and setThreadCount accepts only 1.
#pragma once

#include "lrp/threads.hpp"  // setThreadCount, threadCount, maxThreadCount

#include <cstdint>
#include <functional>

namespace lrp {

namespace detail {
// Runs body(part) for part in [0, parts) on parts threads (part 0 on the caller) and returns when all are
// done; rethrows the first exception a part threw. Nested calls (from inside a part) run serially.
void runParts(int parts, const std::function<void(int)>& body);
bool insideParallelRegion();
}  // namespace detail

// Calls fn(lo, hi) on disjoint contiguous ranges that cover [begin, end): at most threadCount() ranges,
// each at least `grain` long (except when the whole range is shorter), and every range boundary except
// `end` is a multiple of `align` after `begin` (e.g. 4 to keep SIMD blocks whole). Runs fn(begin, end) on
// the caller when one range suffices.
template <typename F>
void parallelFor(int64_t begin, int64_t end, int64_t grain, F&& fn, int64_t align = 1) {
  const int64_t n = end - begin;
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  if (align < 1) align = 1;
  const int threads = threadCount();
  int64_t parts = n / grain;
  if (parts > threads) parts = threads;
  if (parts <= 1 || detail::insideParallelRegion()) {
    fn(begin, end);
    return;
  }
  // Equal shares rounded up to a multiple of `align`; trailing parts may be empty and are skipped.
  int64_t share = (n + parts - 1) / parts;
  share = (share + align - 1) / align * align;
  detail::runParts(static_cast<int>(parts), [&](int part) {
    const int64_t lo = begin + share * part;
    const int64_t hi = lo + share < end ? lo + share : end;
    if (lo < hi) fn(lo, hi);
  });
}

}  // namespace lrp
