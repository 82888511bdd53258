#include <atomic>
#include <vector>

#include "../core/threadpool.h"
#include "harness.h"

using namespace affinity;

TEST(pool, runs_every_task_once) {
  for (int threads : {0, 1, 2, 4}) {
    std::vector<std::atomic<int>> hits(1000);
    ThreadPool::instance().parallelFor(hits.size(), threads, [&](size_t t) { hits[t]++; }, nullptr);
    for (auto& h : hits) CHECK(h.load() == 1);
  }
}

TEST(pool, rethrows_the_first_error) {
  CHECK_THROWS_CODE(ThreadPool::instance().parallelFor(
                        100, 2, [](size_t t) {
                          if (t == 37) fail(code::kBadInput, "task 37");
                        },
                        nullptr),
                    code::kBadInput);
}

TEST(pool, concurrent_jobs_and_resizing) {
  std::atomic<long> total{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < 4; ++c)
    callers.emplace_back([&] { ThreadPool::instance().parallelFor(500, 0, [&](size_t t) { total += static_cast<long>(t); }, nullptr); });
  for (auto& t : callers) t.join();
  CHECK(total.load() == 4L * 499 * 500 / 2);
  ThreadPool::instance().setThreads(3);
  CHECK(ThreadPool::instance().threads() == 3);
  ThreadPool::instance().setThreads(ThreadPool::defaultThreads());
}
