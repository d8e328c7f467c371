// The time an apply has left, from the rate its operations settle at: silent
// until something is known, the measured rate once it is, smoothed, and
// longer while nothing settles.

#include "controller/remaining_time.h"

#include <catch2/catch.hpp>

#include <chrono>

namespace remaining_time_test {

namespace {

using std::chrono::milliseconds;
using Clock = controller::RemainingTime::Clock;

const Clock::time_point k_start{};

Clock::time_point at(long long ms) { return k_start + milliseconds(ms); }

// Settles `count` operations, one every `every_ms`, starting after `from_ms`.
long long settle_every(controller::RemainingTime& remaining, int count, long long every_ms, long long from_ms = 0) {
  long long now = from_ms;
  for (int i = 0; i < count; ++i) {
    now += every_ms;
    remaining.settled(at(now));
  }
  return now;
}

}  // namespace

TEST_CASE("remaining time: nothing is estimated until 10 settled or 2 s passed", "[remaining_time]") {
  controller::RemainingTime remaining(100, k_start);
  CHECK_FALSE(remaining.estimate(at(5000)).has_value());  // nothing settled at all
  long long now = settle_every(remaining, 9, 10);
  CHECK_FALSE(remaining.estimate(at(now)).has_value());
  remaining.settled(at(now + 10));
  REQUIRE(remaining.estimate(at(now + 10)).has_value());

  SECTION("or one settled and two seconds passed") {
    controller::RemainingTime slow(100, k_start);
    slow.settled(at(1500));
    CHECK_FALSE(slow.estimate(at(1999)).has_value());
    CHECK(slow.estimate(at(2000)).has_value());
  }
}

TEST_CASE("remaining time: a steady rate gives the operations left over that rate", "[remaining_time]") {
  // 100 operations, one every 100 ms: after 30 of them (3 s), 70 are left, 7 s.
  controller::RemainingTime remaining(100, k_start);
  long long now = settle_every(remaining, 30, 100);
  auto left = remaining.estimate(at(now));
  REQUIRE(left);
  CHECK(left->count() == Approx(7000).margin(200));
  // Before the first window of samples closes, the rate since the start is used.
  controller::RemainingTime early(100, k_start);
  now = settle_every(early, 10, 50);  // 10 in 500 ms
  left = early.estimate(at(now));
  REQUIRE(left);
  CHECK(left->count() == Approx(90 * 50).margin(100));
}

TEST_CASE("remaining time: a change of rate is followed, smoothed", "[remaining_time]") {
  // 1000 operations: 100 at one per 100 ms (10 s), then one per 10 ms.
  controller::RemainingTime remaining(1000, k_start);
  long long now = settle_every(remaining, 100, 100);
  auto slow = remaining.estimate(at(now));
  REQUIRE(slow);
  CHECK(slow->count() == Approx(900 * 100).margin(2000));
  // One second at the new rate moves the estimate part of the way only.
  now = settle_every(remaining, 100, 10, now);
  auto moving = remaining.estimate(at(now));
  REQUIRE(moving);
  const double fast = 800 * 10;
  CHECK(static_cast<double>(moving->count()) < 800 * 100 * 0.9);
  CHECK(static_cast<double>(moving->count()) > fast * 1.5);
  // After several seconds it has settled on the new rate.
  now = settle_every(remaining, 600, 10, now);
  auto settled = remaining.estimate(at(now));
  REQUIRE(settled);
  CHECK(settled->count() == Approx(200 * 10).epsilon(0.1));
}

TEST_CASE("remaining time: while nothing settles the estimate grows", "[remaining_time]") {
  controller::RemainingTime remaining(100, k_start);
  long long now = settle_every(remaining, 50, 40);  // 2 s at 25 per second
  auto before = remaining.estimate(at(now));
  REQUIRE(before);
  CHECK(before->count() == Approx(2000).margin(100));
  // A rate-limit wait: ten seconds without a settled operation.
  auto stalled = remaining.estimate(at(now + 10'000));
  REQUIRE(stalled);
  CHECK(stalled->count() > 2 * before->count());
}

TEST_CASE("remaining time: nothing left once everything settled", "[remaining_time]") {
  controller::RemainingTime remaining(3, k_start);
  settle_every(remaining, 3, 10);
  CHECK(remaining.estimate(at(30)) == milliseconds(0));
}

TEST_CASE("remaining time: shown in seconds, minutes, or hours and minutes", "[remaining_time]") {
  using controller::remaining_text;
  CHECK(remaining_text(milliseconds(0)) == "about 5 s left");
  CHECK(remaining_text(milliseconds(3200)) == "about 5 s left");
  CHECK(remaining_text(milliseconds(38'000)) == "about 40 s left");
  CHECK(remaining_text(milliseconds(40'000)) == "about 40 s left");
  CHECK(remaining_text(milliseconds(57'000)) == "about 1 min left");
  CHECK(remaining_text(milliseconds(125'000)) == "about 2 min left");
  CHECK(remaining_text(milliseconds(17 * 60'000)) == "about 17 min left");
  CHECK(remaining_text(milliseconds(89 * 60'000)) == "about 89 min left");
  CHECK(remaining_text(milliseconds(190 * 60'000)) == "about 3 h 10 min left");
  CHECK(remaining_text(milliseconds(240 * 60'000)) == "about 4 h left");
}

}  // namespace remaining_time_test
