// The window of attempts in flight: it halves on a 429, only once per
// window's worth of attempts (429s of attempts started before a decrease
// tell of the old window), closes by one when half a window's worth of
// answers come slower than the fastest of their kind, opens by one after a
// window's worth of answers whose latency held, never below 1 nor above its
// maximum, and blocks acquire() while it is full.

#include "controller/concurrency_window.h"

#include <catch2/catch.hpp>

#include <algorithm>
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

TEST_CASE("concurrency window: starts wide open, values below 1 mean 1", "[window]") {
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

TEST_CASE("concurrency window: it starts where told and opens while latency holds", "[window]") {
  using std::chrono::milliseconds;
  ConcurrencyWindow window(4, 16);
  CHECK(window.size() == 4);
  CHECK(ConcurrencyWindow(20, 16).size() == 16);
  CHECK(ConcurrencyWindow(0, 16).size() == 1);
  // A server that answers in 20 ms however many are in flight has room.
  for (int i = 0; i < 200; ++i) {
    window.release(window.acquire(), false, milliseconds(20));
  }
  CHECK(window.size() == 16);
  CHECK(window.widest() == 16);
  CHECK(window.narrowest() == 4);
}

TEST_CASE("concurrency window: from a small start it doubles until a queue shows, then moves by one", "[window]") {
  using std::chrono::milliseconds;
  ConcurrencyWindow flat(2, 32);
  for (int i = 0; i < 2 + 4 + 8 + 16; ++i) {
    flat.release(flat.acquire(), false, milliseconds(20));
  }
  CHECK(flat.size() == 32);  // 2, 4, 8, 16, 32: one window's worth each

  // A server that takes 50 ms a request, one at a time, seen from a start of
  // two: the fastest answer is learnt before a queue builds, and the window
  // stays where a few wait.
  ConcurrencyWindow window(2, 32);
  int largest = 0;
  for (int round = 0; round < 300; ++round) {
    std::vector<ConcurrencyWindow::Ticket> in_flight = take(window, window.size());
    for (std::size_t i = 0; i < in_flight.size(); ++i) {
      window.release(in_flight[i], false, milliseconds(50 * static_cast<int>(i + 1)));
    }
    largest = std::max(largest, window.size());
  }
  CHECK(largest <= 8);
  CHECK(window.size() >= 2);
  CHECK(window.size() <= 5);
}

TEST_CASE("concurrency window: latency that rises closes it by one, down to where the server keeps up",
          "[window]") {
  using std::chrono::milliseconds;
  ConcurrencyWindow window(8, 32);
  // A server that takes 50 ms a request, one at a time: an answer waits for
  // those queued before it. The window shrinks until a few wait, and stays
  // there: the server is kept busy, its queue short.
  int largest_after_settling = 0;
  int smallest_after_settling = 32;
  for (int round = 0; round < 400; ++round) {
    std::vector<ConcurrencyWindow::Ticket> in_flight = take(window, window.size());
    const int queued = static_cast<int>(in_flight.size());
    for (int i = 0; i < queued; ++i) {
      window.release(in_flight[static_cast<std::size_t>(i)], false, milliseconds(50 * (i + 1)));
    }
    if (round >= 200) {
      largest_after_settling = std::max(largest_after_settling, window.size());
      smallest_after_settling = std::min(smallest_after_settling, window.size());
    }
  }
  CHECK(largest_after_settling <= 5);
  CHECK(smallest_after_settling >= 2);
  CHECK(window.widest() == 8);

  SECTION("the fastest answer is kept per kind: slow room creations do not narrow the invites") {
    ConcurrencyWindow mixed(4, 8);
    for (int i = 0; i < 200; ++i) {
      mixed.release(mixed.acquire(1), false, milliseconds(20));
      mixed.release(mixed.acquire(2), false, milliseconds(400));
    }
    CHECK(mixed.size() == 8);
    CHECK(mixed.narrowest() == 4);
  }
  SECTION("a few milliseconds more than a server's tens are noise, not a queue") {
    ConcurrencyWindow noisy(4, 8);
    for (int i = 0; i < 200; ++i) {
      noisy.release(noisy.acquire(), false, milliseconds(i % 2 == 0 ? 20 : 28));
    }
    CHECK(noisy.size() == 8);
  }
  SECTION("a server that answers within a millisecond shows its queue in milliseconds") {
    ConcurrencyWindow quick(4, 8);
    quick.release(quick.acquire(), false, std::chrono::microseconds(100));
    for (int i = 0; i < 200; ++i) {
      quick.release(quick.acquire(), false, milliseconds(5));
    }
    CHECK(quick.size() < 4);
    ConcurrencyWindow jittery(4, 8);
    for (int i = 0; i < 200; ++i) {
      jittery.release(jittery.acquire(), false, std::chrono::microseconds(i % 2 == 0 ? 2000 : 3500));
    }
    CHECK(jittery.size() == 8);
  }
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

TEST_CASE("concurrency window: many waiters on a small window all get their turn", "[window]") {
  ConcurrencyWindow window(2, 2);
  std::atomic<int> done{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < 8; ++t) {
    workers.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        auto ticket = window.acquire();
        window.release(ticket, i % 97 == 0);  // now and then a 429 narrows it
        ++done;
      }
    });
  }
  for (std::thread& worker : workers) {
    worker.join();
  }
  CHECK(done.load() == 8 * 500);
}

}  // namespace concurrency_window_test
