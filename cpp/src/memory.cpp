#include "lrp/memory.hpp"

#include "lrp/types.hpp"

#include <malloc.h>

#include <algorithm>
#include <cstdio>
#include <limits>

#ifdef __EMSCRIPTEN__
#include <emscripten/heap.h>
#include <unistd.h>
#endif

namespace lrp {
namespace {

constexpr int64_t kUnlimited = std::numeric_limits<int64_t>::max() / 4;
int64_t limitSet = 0;  // 0: none

int64_t maximumMemory() {
#ifdef __EMSCRIPTEN__
  return static_cast<int64_t>(emscripten_get_heap_max());
#else
  return kUnlimited;
#endif
}

// What the engine can still take without counting the free space inside its heap (which needs a walk over the
// heap): in WebAssembly the memory above the break. A cheap lower bound of memoryStatus().available().
int64_t availableAtLeastNow(int64_t limit) {
#ifdef __EMSCRIPTEN__
  const auto top = static_cast<int64_t>(reinterpret_cast<uintptr_t>(sbrk(0)));
  return limit > top ? limit - top : 0;
#else
  (void)limit;
  return 0;
#endif
}

int64_t memoryInUse() {
#ifdef __EMSCRIPTEN__
  // Everything below the break (static data, stack, the heap) minus the free space inside the heap, which the
  // allocator hands out again before it grows the memory. mallinfo's fields are 32-bit: read them unsigned.
  const struct mallinfo info = mallinfo();
  const auto top = static_cast<int64_t>(reinterpret_cast<uintptr_t>(sbrk(0)));
  return top - static_cast<int64_t>(static_cast<uint32_t>(info.fordblks));
#else
  const struct mallinfo2 info = mallinfo2();
  return static_cast<int64_t>(info.uordblks + info.hblkhd);
#endif
}

}  // namespace

std::string formatBytes(int64_t bytes) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (unit < 4 && (value >= 1024.0 || value <= -1024.0)) {
    value /= 1024.0;
    ++unit;
  }
  char text[32];
  if (unit == 0) std::snprintf(text, sizeof text, "%lld B", static_cast<long long>(bytes));
  else std::snprintf(text, sizeof text, "%.1f %s", value, units[unit]);
  return text;
}

MemoryStatus memoryStatus() {
  const int64_t maximum = maximumMemory();
  const int64_t limit = limitSet > 0 ? std::min(limitSet, maximum) : maximum;
  return MemoryStatus{limit, memoryInUse()};
}

int64_t availableAtLeast() {
  const int64_t maximum = maximumMemory();
  return availableAtLeastNow(limitSet > 0 ? std::min(limitSet, maximum) : maximum);
}

int64_t setMemoryLimit(int64_t bytes) {
  limitSet = bytes > 0 ? bytes : 0;
  return memoryStatus().limit;
}

MemoryNeed& MemoryNeed::operator+=(const MemoryNeed& other) {
  activations += other.activations;
  relevance += other.relevance;
  workspace += other.workspace;
  weights += other.weights;
  return *this;
}

MemoryNeed operator*(const MemoryNeed& need, int64_t factor) {
  return MemoryNeed{need.activations * factor, need.relevance * factor, need.workspace * factor, need.weights * factor};
}

std::string outOfMemoryMessage(const std::string& what, const MemoryNeed& need, const MemoryStatus& status) {
  std::string parts;
  auto part = [&](const char* name, int64_t bytes) {
    if (bytes <= 0) return;
    parts += (parts.empty() ? "" : ", ") + std::string(name) + " " + formatBytes(bytes);
  };
  part("weights", need.weights);
  part("activations", need.activations);
  part("relevance", need.relevance);
  part("workspace", need.workspace);
  const bool limited = status.limit < kUnlimited;
  const std::string needs = what + " needs " + formatBytes(need.total()) + (parts.empty() ? "" : " (" + parts + ")");
  // Disposing of models cannot help what exceeds the whole memory.
  if (limited && need.total() > status.limit)
    return needs + ", more than the engine's limit of " + formatBytes(status.limit);
  return needs + " but the engine has " + formatBytes(status.available()) + " left" +
         (limited ? " of its " + formatBytes(status.limit) : "") + "; dispose() models you no longer need";
}

void requireMemory(const std::string& what, const MemoryNeed& need) {
  if (need.total() <= availableAtLeast()) return;  // fits above the break: no need to count the free space
  if (need.total() <= memoryStatus().available()) return;
  releaseCaches();  // recomputable: a call that fits without them is not refused for them
  const MemoryStatus status = memoryStatus();
  if (need.total() > status.available()) throw Error(outOfMemoryMessage(what, need, status));
}

}  // namespace lrp
