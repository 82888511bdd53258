#include "threadpool.h"

#include <algorithm>
#include <atomic>
#include <exception>

namespace affinity {

struct ThreadPool::Job {
  const std::function<void(size_t)>* fn = nullptr;
  const Control* control = nullptr;
  size_t tasks = 0;
  std::atomic<size_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::condition_variable finished;
  int running = 0;  // helpers currently inside work()
  std::exception_ptr error;

  void work() {
    while (!stop.load(std::memory_order_relaxed)) {
      if (control != nullptr && control->cancelled()) {
        stop = true;
        break;
      }
      size_t task = next.fetch_add(1, std::memory_order_relaxed);
      if (task >= tasks) break;
      try {
        (*fn)(task);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!error) error = std::current_exception();
        stop = true;
      }
    }
  }
};

ThreadPool& ThreadPool::instance() {
  static ThreadPool pool;
  return pool;
}

int ThreadPool::defaultThreads() {
  unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(std::min(hw, 256u));
}

ThreadPool::ThreadPool() { setThreads(defaultThreads()); }

ThreadPool::~ThreadPool() { stopHelpers(); }

int ThreadPool::threads() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return threads_;
}

void ThreadPool::setThreads(int count) {
  count = std::clamp(count, 1, 256);
  stopHelpers();
  std::lock_guard<std::mutex> lock(mutex_);
  threads_ = count;
  stopping_ = false;
  startHelpers(count - 1);
}

void ThreadPool::startHelpers(int count) {
  for (int i = 0; i < count; ++i) helpers_.emplace_back([this] { helperLoop(); });
}

void ThreadPool::stopHelpers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : helpers_) t.join();
  helpers_.clear();
}

void ThreadPool::helperLoop() {
  for (;;) {
    std::shared_ptr<Job> job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and nothing left
      job = std::move(queue_.front());
      queue_.pop_front();
      std::lock_guard<std::mutex> jobLock(job->mutex);
      ++job->running;
    }
    job->work();
    {
      std::lock_guard<std::mutex> jobLock(job->mutex);
      --job->running;
    }
    job->finished.notify_all();
  }
}

void ThreadPool::parallelFor(size_t tasks, int threads, const std::function<void(size_t)>& fn,
                             const Control* control) {
  if (tasks == 0) return;
  auto job = std::make_shared<Job>();
  job->fn = &fn;
  job->control = control;
  job->tasks = tasks;
  int limit = threads <= 0 ? this->threads() : std::min(threads, this->threads());
  size_t helpers = std::min(static_cast<size_t>(std::max(limit, 1) - 1), tasks - 1);
  if (helpers > 0) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (size_t i = 0; i < helpers; ++i) queue_.push_back(job);
  }
  for (size_t i = 0; i < helpers; ++i) wake_.notify_one();
  job->work();
  {
    // Tickets no helper has picked up yet are withdrawn: there is nothing left for them to do.
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.erase(std::remove(queue_.begin(), queue_.end(), job), queue_.end());
  }
  {
    std::unique_lock<std::mutex> jobLock(job->mutex);
    job->finished.wait(jobLock, [&] { return job->running == 0; });
  }
  if (job->error) std::rethrow_exception(job->error);
  if (control != nullptr) control->throwIfCancelled();
}

}  // namespace affinity
