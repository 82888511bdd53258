// Cancellation and progress shared between a running job and its caller.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>

#include "error.h"

namespace affinity {

class Control {
 public:
  using ProgressFn = std::function<void(double fraction)>;
  using EventFn = std::function<void(int32_t step, double value)>;

  Control() = default;
  // cancelFlag points at memory the caller may set to non-zero from another thread (a JS Int32Array).
  Control(int32_t* cancelFlag, ProgressFn progress, EventFn event = nullptr)
      : cancelFlag_(cancelFlag), progress_(std::move(progress)), event_(std::move(event)) {}

  // Reports a milestone (an ALS iteration and its loss) to the caller, if it listens.
  void event(int32_t step, double value) const {
    if (event_) event_(step, value);
  }

  bool cancelled() const {
    return cancelFlag_ != nullptr && std::atomic_ref<int32_t>(*cancelFlag_).load(std::memory_order_relaxed) != 0;
  }
  void throwIfCancelled() const {
    if (cancelled()) fail(code::kCancelled, "the operation was cancelled");
  }

  void setTotal(int64_t total) { total_ = total > 0 ? total : 1; }
  // Adds finished work units; reports at most every 50 ms so callbacks never flood the JS thread.
  void advance(int64_t units) {
    int64_t done = done_.fetch_add(units, std::memory_order_relaxed) + units;
    if (!progress_) return;
    int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now().time_since_epoch())
                      .count();
    int64_t last = lastReportMs_.load(std::memory_order_relaxed);
    if (done < total_ && now - last < 50) return;
    if (!lastReportMs_.compare_exchange_strong(last, now)) return;
    progress_(static_cast<double>(done) / static_cast<double>(total_));
  }

 private:
  int32_t* cancelFlag_ = nullptr;
  ProgressFn progress_;
  EventFn event_;
  int64_t total_ = 1;
  std::atomic<int64_t> done_{0};
  std::atomic<int64_t> lastReportMs_{0};
};

}  // namespace affinity
