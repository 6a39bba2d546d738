#include "parallel.hpp"

#include "lrp/types.hpp"

#include <string>

#ifdef LRP_THREADS
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
void runParts(int parts, const std::function<void(int)>& body) {
  for (int part = 0; part < parts; ++part) body(part);
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

// Workers 1..n−1 sleep on `wake` until `generation` changes, run their part (if the job has one for them) and
// count down `pending`; the caller runs part 0 and sleeps on `done` until `pending` is 0.
class Pool {
 public:
  explicit Pool(int threads) : threads_(threads) {
    workers_.reserve(static_cast<size_t>(threads - 1));
    for (int index = 1; index < threads; ++index) workers_.emplace_back([this, index] { workerLoop(index); });
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

  void run(int parts, const std::function<void(int)>& body) {
    std::lock_guard<std::mutex> callers(callerMutex_);  // one job at a time
    {
      std::lock_guard<std::mutex> lock(mutex_);
      body_ = &body;
      parts_ = parts;
      pending_ = parts - 1;
      error_ = nullptr;
      ++generation_;
    }
    wake_.notify_all();
    std::exception_ptr mine;
    try {
      InsideScope inside;
      body(0);
    } catch (...) {
      mine = std::current_exception();
    }
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return pending_ == 0; });
    body_ = nullptr;
    const std::exception_ptr error = mine ? mine : error_;
    error_ = nullptr;
    lock.unlock();
    if (error) std::rethrow_exception(error);
  }

 private:
  void workerLoop(int index) {
    uint64_t seen = 0;
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      if (index >= parts_) continue;  // this job has fewer parts than the pool has threads
      const std::function<void(int)>* body = body_;
      lock.unlock();
      std::exception_ptr error;
      try {
        InsideScope inside;
        (*body)(index);
      } catch (...) {
        error = std::current_exception();
      }
      lock.lock();
      if (error && !error_) error_ = error;
      if (--pending_ == 0) done_.notify_one();
    }
  }

  const int threads_;
  std::vector<std::thread> workers_;
  std::mutex callerMutex_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  uint64_t generation_ = 0;
  bool stop_ = false;
  const std::function<void(int)>* body_ = nullptr;
  int parts_ = 0;
  int pending_ = 0;
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
void runParts(int parts, const std::function<void(int)>& body) {
  Pool* p = pool().get();
  if (p == nullptr || parts <= 1 || tInside) {
    for (int part = 0; part < parts; ++part) body(part);
    return;
  }
  if (parts > p->threads()) throw Error("runParts: more parts than threads");
  p->run(parts, body);
}
}  // namespace detail

#endif

}  // namespace lrp
