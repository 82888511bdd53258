#include <cstdio>
#include <exception>

#include "harness.h"

namespace affinity::test {
std::vector<Case>& registry() {
  static std::vector<Case> cases;
  return cases;
}
}  // namespace affinity::test

int main(int argc, char** argv) {
  const std::string only = argc > 1 ? argv[1] : "";
  int passed = 0, failed = 0;
  for (const auto& c : affinity::test::registry()) {
    if (!only.empty() && c.suite != only) continue;
    try {
      c.fn();
      ++passed;
      std::printf("ok   %s.%s\n", c.suite.c_str(), c.name.c_str());
    } catch (const std::exception& e) {
      ++failed;
      std::printf("FAIL %s.%s: %s\n", c.suite.c_str(), c.name.c_str(), e.what());
    }
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 && passed > 0 ? 0 : 1;
}
