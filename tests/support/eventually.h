#pragma once
// Waiting on a condition with a generous bound, instead of sleeping a fixed
// time and hoping.

#include <chrono>
#include <functional>
#include <thread>

namespace testing_support {

/// Polls `condition` every 20 ms until it holds or `limit` passes; whether
/// it held (checked once more at the deadline).
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds limit = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

}  // namespace testing_support
