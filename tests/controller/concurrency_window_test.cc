// The window of attempts in flight under rate limiting: it halves on a 429,
// only once per window's worth of attempts (429s of attempts started before
// a decrease tell of the old window), opens by one after a window's worth of
// answers without one, never below 1 nor above its maximum, and blocks
// acquire() while it is full.

#include "controller/concurrency_window.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace concurrency_window_test {

namespace {

using controller::ConcurrencyWindow;

// Acquires `n` tickets at once (the window must have room for them).
std::vector<ConcurrencyWindow::Ticket> take(ConcurrencyWindow& window, int n) {
  std::vector<ConcurrencyWindow::Ticket> tickets;
  for (int i = 0; i < n; ++i) {
    tickets.push_back(window.acquire());
  }
  return tickets;
}

}  // namespace

TEST_CASE("concurrency window: starts wide open; values below 1 mean 1", "[window]") {
  CHECK(ConcurrencyWindow(8).size() == 8);
  CHECK(ConcurrencyWindow(8).narrowest() == 8);
  CHECK(ConcurrencyWindow(0).size() == 1);
  CHECK(ConcurrencyWindow(-3).size() == 1);
}

TEST_CASE("concurrency window: a 429 halves it, once for the attempts already in flight", "[window]") {
  ConcurrencyWindow window(8);
  auto in_flight = take(window, 8);
  window.release(in_flight[0], true);
  CHECK(window.size() == 4);
  // The other seven were sent with the window at 8: their 429s say nothing new.
  for (std::size_t i = 1; i < in_flight.size(); ++i) {
    window.release(in_flight[i], true);
  }
  CHECK(window.size() == 4);
  SECTION("an attempt started after the decrease halves it again, down to 1") {
    window.release(window.acquire(), true);
    CHECK(window.size() == 2);
    window.release(window.acquire(), true);
    CHECK(window.size() == 1);
    window.release(window.acquire(), true);
    CHECK(window.size() == 1);
    CHECK(window.narrowest() == 1);
  }
}

TEST_CASE("concurrency window: answers without a 429 open it by one per window's worth", "[window]") {
  ConcurrencyWindow window(4);
  window.release(window.acquire(), true);
  window.release(window.acquire(), true);
  REQUIRE(window.size() == 1);
  window.release(window.acquire(), false);
  CHECK(window.size() == 2);
  window.release(window.acquire(), false);
  CHECK(window.size() == 2);
  window.release(window.acquire(), false);
  CHECK(window.size() == 3);
  for (int i = 0; i < 3; ++i) {
    window.release(window.acquire(), false);
  }
  CHECK(window.size() == 4);
  for (int i = 0; i < 20; ++i) {
    window.release(window.acquire(), false);
  }
  CHECK(window.size() == 4);
  CHECK(window.narrowest() == 1);
}

TEST_CASE("concurrency window: acquire waits while the window is full", "[window]") {
  ConcurrencyWindow window(2);
  auto first = window.acquire();
  window.release(first, true);  // the window is 1 now
  REQUIRE(window.size() == 1);
  auto held = window.acquire();
  std::atomic<bool> acquired{false};
  std::thread other([&] {
    auto ticket = window.acquire();
    acquired = true;
    window.release(ticket, false);
  });
  // Gives the other thread every chance to get in wrongly; a correct window
  // passes however long this takes.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK_FALSE(acquired.load());
  window.release(held, false);
  other.join();
  CHECK(acquired.load());
}

}  // namespace concurrency_window_test
