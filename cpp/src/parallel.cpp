#include "parallel.hpp"

#include "lrp/types.hpp"

#include <string>

#ifdef LRP_THREADS
#include <atomic>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>
#endif

namespace lrp {

#ifndef LRP_THREADS

int threadCount() { return 1; }
int maxThreadCount() { return 1; }

void setThreadCount(int n) {
  if (n != 1) throw Error("this engine is the single-thread build: it runs 1 thread, not " + std::to_string(n));
}

namespace detail {
bool insideParallelRegion() { return false; }
void runPieces(int64_t pieces, const std::function<void(int64_t)>& body) {
  for (int64_t piece = 0; piece < pieces; ++piece) body(piece);
}
}  // namespace detail

#else

namespace {

constexpr int kMaxThreads = 64;

thread_local bool tInside = false;

// Sets tInside for the current scope (the caller's part, or a worker's).
struct InsideScope {
  bool previous;
  InsideScope() : previous(tInside) { tInside = true; }
  ~InsideScope() { tInside = previous; }
};

// Workers sleep on `wake_` until a job opens (`generation_` changes while `open_`), join it (`active_`), claim
// pieces from `next_` until none is left, and leave it. The caller claims pieces too; once none is left it
// closes the job (no worker joins later) and waits on `done_` until the workers that joined have left.
class Pool {
 public:
  explicit Pool(int threads) : threads_(threads) {
    workers_.reserve(static_cast<size_t>(threads - 1));
    for (int index = 1; index < threads; ++index) workers_.emplace_back([this] { workerLoop(); });
  }

  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (std::thread& worker : workers_) worker.join();
  }

  int threads() const { return threads_; }

  void run(int64_t pieces, const std::function<void(int64_t)>& body) {
    std::lock_guard<std::mutex> callers(callerMutex_);  // one job at a time
    {
      std::lock_guard<std::mutex> lock(mutex_);
      body_ = &body;
      pieces_ = pieces;
      next_.store(0);
      failed_.store(false);
      error_ = nullptr;
      open_ = true;
      ++generation_;
    }
    wake_.notify_all();
    work();
    std::unique_lock<std::mutex> lock(mutex_);
    open_ = false;
    done_.wait(lock, [this] { return active_ == 0; });
    body_ = nullptr;
    const std::exception_ptr error = error_;
    error_ = nullptr;
    lock.unlock();
    if (error) std::rethrow_exception(error);
  }

 private:
  // Claims and runs pieces of the current job until none is left (after an error: skips the rest).
  void work() {
    InsideScope inside;
    for (int64_t piece = next_.fetch_add(1); piece < pieces_; piece = next_.fetch_add(1)) {
      if (failed_.load()) continue;
      try {
        (*body_)(piece);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!error_) error_ = std::current_exception();
        failed_.store(true);
      }
    }
  }

  void workerLoop() {
    uint64_t seen = 0;
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      if (!open_) continue;  // the caller finished this job alone
      ++active_;
      lock.unlock();
      work();
      lock.lock();
      if (--active_ == 0) done_.notify_one();
    }
  }

  const int threads_;
  std::vector<std::thread> workers_;
  std::mutex callerMutex_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  uint64_t generation_ = 0;
  bool stop_ = false;
  bool open_ = false;
  int active_ = 0;
  // The current job: set under mutex_ before it opens, read by the threads that joined it.
  const std::function<void(int64_t)>* body_ = nullptr;
  int64_t pieces_ = 0;
  std::atomic<int64_t> next_{0};
  std::atomic<bool> failed_{false};
  std::exception_ptr error_;
};

std::unique_ptr<Pool>& pool() {
  static std::unique_ptr<Pool> instance;
  return instance;
}

}  // namespace

int threadCount() { return pool() ? pool()->threads() : 1; }
int maxThreadCount() { return kMaxThreads; }

void setThreadCount(int n) {
  if (n < 1 || n > kMaxThreads)
    throw Error("thread count must be between 1 and " + std::to_string(kMaxThreads) + ", got " + std::to_string(n));
  if (n == threadCount()) return;
  pool().reset();
  if (n > 1) pool() = std::make_unique<Pool>(n);
}

namespace detail {
bool insideParallelRegion() { return tInside; }
void runPieces(int64_t pieces, const std::function<void(int64_t)>& body) {
  Pool* p = pool().get();
  if (p == nullptr || pieces <= 1 || tInside) {
    for (int64_t piece = 0; piece < pieces; ++piece) body(piece);
    return;
  }
  p->run(pieces, body);
}
}  // namespace detail

#endif

}  // namespace lrp
