// One process-wide compute pool. The thread that calls parallelFor works too, so a busy pool slows a
// job down but can never deadlock it.
#pragma once
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "control.h"

namespace affinity {

class ThreadPool {
 public:
  static ThreadPool& instance();
  ~ThreadPool();

  // Runs fn(task) for task in [0, tasks) on up to `threads` threads (0 = all), handing out tasks
  // dynamically. Stops handing out tasks once control reports cancellation, then throws kCancelled.
  // The first exception thrown by fn is rethrown here after all threads have stopped.
  void parallelFor(size_t tasks, int threads, const std::function<void(size_t)>& fn, const Control* control);

  int threads() const;        // total threads a job may use (helpers + caller)
  void setThreads(int count);  // clamps to [1, 256]
  static int defaultThreads();

 private:
  struct Job;
  ThreadPool();
  void startHelpers(int count);
  void stopHelpers();
  void helperLoop();

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<Job>> queue_;
  std::vector<std::thread> helpers_;
  bool stopping_ = false;
  int threads_ = 1;
};

}  // namespace affinity
