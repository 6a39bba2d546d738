// How this machine's cores scale, to read thread benchmarks by: the same work done twice on one thread, then
// once on each of two threads at the same time, for memory-bound work (b[i] += 0.5·a[i] streamed over arrays, as
// element-wise passes, im2col and depthwise convolutions do) and for arithmetic-bound work (a dependent chain of
// multiply-adds in registers). Two vCPUs that are hyperthreads of one core scale the second ~2× and the first
// hardly at all; separate cores scale both.
//
//   g++ -O2 -pthread scripts/thread-scaling.cpp -o /tmp/thread-scaling && /tmp/thread-scaling
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

namespace {

void stream(float* a, float* b, size_t n, int reps) {
  for (int r = 0; r < reps; ++r)
    for (size_t i = 0; i < n; ++i) b[i] += 0.5f * a[i];
}

void chain(long n) {
  volatile float x = 1.0f;
  for (long i = 0; i < n; ++i) x = x * 0.999f + 0.001f;
}

template <typename F>
void compare(const char* what, F work) {
  auto t0 = std::chrono::steady_clock::now();
  work(0);
  work(1);
  auto t1 = std::chrono::steady_clock::now();
  std::thread other([&] { work(1); });
  work(0);
  other.join();
  auto t2 = std::chrono::steady_clock::now();
  const double serial = std::chrono::duration<double, std::milli>(t1 - t0).count();
  const double parallel = std::chrono::duration<double, std::milli>(t2 - t1).count();
  std::printf("%-32s one thread twice %6.1f ms, two threads at once %6.1f ms: speedup %.2f\n", what, serial, parallel,
              serial / parallel);
}

}  // namespace

int main() {
  for (double mb : {0.125, 1.0, 16.0}) {
    const size_t n = static_cast<size_t>(mb * (1 << 20) / 4);
    const int reps = static_cast<int>(256 / mb);
    std::vector<float> a[2] = {std::vector<float>(n, 1.0f), std::vector<float>(n, 1.0f)};
    std::vector<float> b[2] = {std::vector<float>(n, 0.0f), std::vector<float>(n, 0.0f)};
    char what[64];
    std::snprintf(what, sizeof what, "memory-bound, %.3g MB arrays", mb);
    compare(what, [&](int k) { stream(a[k].data(), b[k].data(), n, reps); });
  }
  compare("arithmetic-bound", [](int) { chain(300000000); });
}
