// The engine's memory budget: how much memory the engine may still use, estimates of what a model holds
// and what a call needs, and refusals (lrp::Error) that say both before anything is allocated.
//
// In WebAssembly the budget is the module's maximum memory (4 GB, the wasm32 limit, or less if the page set a
// limit) minus what the heap holds now; memory freed back to the allocator counts as available, since the next
// allocation reuses it. Natively the budget is a limit the caller sets (unlimited by default), so the native
// tests can exercise refusals.
#pragma once

#include <cstdint>
#include <string>

namespace lrp {

// "374 B", "12.5 KB", "91.3 MB", "3.1 GB" (binary units: 1 MB = 2^20 bytes).
std::string formatBytes(int64_t bytes);

struct MemoryStatus {
  int64_t limit;  // the most the engine may hold: min(maximum memory, the limit set)
  int64_t used;   // what it holds now (allocated and not freed; in WebAssembly also static data and stack)
  int64_t available() const { return limit > used ? limit - used : 0; }
};

MemoryStatus memoryStatus();
// A lower bound of memoryStatus().available() that is cheap to compute (memoryStatus walks the heap in
// WebAssembly): what is left above the heap's break. 0 natively.
int64_t availableAtLeast();

// Caps the engine's memory (bytes; <= 0 removes the cap). In WebAssembly the cap never exceeds the module's
// maximum memory. Returns the effective limit.
int64_t setMemoryLimit(int64_t bytes);

// What one call or one load needs, by kind. All in bytes.
struct MemoryNeed {
  int64_t activations = 0;  // the forward pass's outputs kept for the backward pass (or for the next layer)
  int64_t relevance = 0;    // relevance or gradient tensors alive at the backward pass's peak
  int64_t workspace = 0;    // temporaries of the largest step (modified inputs, im2col, modified weights)
  int64_t weights = 0;      // a layer's parameters (loading only)
  int64_t total() const { return activations + relevance + workspace + weights; }
  MemoryNeed& operator+=(const MemoryNeed& other);
};
MemoryNeed operator*(const MemoryNeed& need, int64_t factor);

// Frees what the engine keeps only to save time and can recompute (the linear layers' ones-responses, of every
// loaded model). requireMemory calls it before refusing; it must not run while a call holds one of them.
void releaseCaches();

// Throws lrp::Error when `need` does not fit in what is available now, even after releaseCaches(): "<what> needs 3.1 GB (activations
// 2.9 GB, workspace 204.0 MB) but the engine has 1.4 GB left of its 4.0 GB; dispose() models you no longer need",
// or "..., more than the engine's limit of 4.0 GB" when it exceeds the whole limit.
void requireMemory(const std::string& what, const MemoryNeed& need);

// The message of an out-of-memory refusal (also used when an allocation failed despite the estimate).
std::string outOfMemoryMessage(const std::string& what, const MemoryNeed& need, const MemoryStatus& status);

}  // namespace lrp
