// The engine's thread count (public): how many threads the parallel loops of the kernels use.
#pragma once

namespace lrp {

// Starts (or restarts) the worker pool with n threads in all, the caller included; n ≥ 1. Not thread-safe: call
// it while nothing else runs in the engine (the JavaScript wrapper calls it once, when the engine starts).
// Throws lrp::Error for n < 1, n > maxThreadCount(), and for any n ≠ 1 in the single-thread build.
void setThreadCount(int n);
// Threads in use (1 until setThreadCount is called).
int threadCount();
// The largest n setThreadCount accepts in this build (1 in the single-thread WebAssembly build).
int maxThreadCount();

}  // namespace lrp
