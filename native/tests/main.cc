#include <algorithm>
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
  if (only == "--list") {
    // The suites, once each, in registration order: scripts iterate over them instead of keeping a list.
    std::vector<std::string> suites;
    for (const auto& c : affinity::test::registry())
      if (std::find(suites.begin(), suites.end(), c.suite) == suites.end()) suites.push_back(c.suite);
    for (const auto& s : suites) std::printf("%s\n", s.c_str());
    return 0;
  }
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
