// --now and --since: which texts are times, and what they mean.

#include <catch2/catch.hpp>

#include "controller/clock.h"

namespace clock_test {

TEST_CASE("clock: command-line times are UTC dates or RFC 3339 UTC times", "[clock]") {
  using controller::parse_time_ms;
  CHECK(parse_time_ms("2026-01-01") == 1'767'225'600'000);
  CHECK(parse_time_ms("2026-01-01T00:00:00Z") == 1'767'225'600'000);
  CHECK(parse_time_ms("2026-01-01T10:20:30Z") == 1'767'225'600'000 + (10 * 3600 + 20 * 60 + 30) * 1000);
  CHECK(parse_time_ms("2026-01-01T10:20:30.25Z") == 1'767'225'600'000 + (10 * 3600 + 20 * 60 + 30) * 1000 + 250);
  CHECK(parse_time_ms("2026-01-01T00:00:00+00:00") == 1'767'225'600'000);
  CHECK(parse_time_ms("2024-02-29") == 1'709'164'800'000);
  // Not times: a local time without a zone, another zone, impossible dates, words.
  CHECK_FALSE(parse_time_ms("2026-01-01T10:00:00"));
  CHECK_FALSE(parse_time_ms("2026-01-01T10:00:00+02:00"));
  CHECK_FALSE(parse_time_ms("2026-02-30"));
  CHECK_FALSE(parse_time_ms("2026-01-01T24:00:00Z"));
  CHECK_FALSE(parse_time_ms("yesterday"));
  CHECK_FALSE(parse_time_ms(""));
}

TEST_CASE("clock: the fixed clock stands still, the system clock moves on", "[clock]") {
  controller::FixedClock fixed(42);
  CHECK(fixed.now_ms() == 42);
  CHECK(controller::SystemClock().now_ms() > 1'767'225'600'000);  // after 2026-01-01
  CHECK(controller::format_time(1'767'225'600'000 + 61'500) == "2026-01-01T00:01:01Z");
}

}  // namespace clock_test
