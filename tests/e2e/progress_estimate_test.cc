// The progress output estimates the time an apply has left from the rate
// measured while it runs (the rate-limit note before it can only assume the
// server's limits). Against mxsim answering every request late, the
// estimates printed must be close to the time the apply then really took.

#include <catch2/catch.hpp>

#include <chrono>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/fixture.h"

namespace progress_estimate_test {

namespace {

using Clock = std::chrono::steady_clock;

// A "Progress: N/M operations settled, about X s|min left" line, and when
// the test saw it appear.
struct Estimate {
  std::string line;
  double seconds_left = 0;
  Clock::time_point seen;
};

}  // namespace

TEST_CASE("e2e: progress lines estimate the time left from the measured rate", "[e2e][progress]") {
  e2e::Fixture fx;
  fx.homeserver().set_request_delay(std::chrono::milliseconds(100));
  e2e::Child child({MXCTL_BINARY, "apply", fx.manifests(), "--yes", "--parallel", "2"}, fx.env(),
                   fx.scratch("out.txt"), fx.scratch("err.txt"));
  const std::regex estimate(R"(^Progress: (\d+)/(\d+) operations settled, about (\d+) (s|min) left$)");
  std::vector<Estimate> estimates;
  std::size_t lines_read = 0;
  const auto deadline = Clock::now() + std::chrono::minutes(3);
  auto scan = [&] {
    std::istringstream err(child.err());
    std::string line;
    std::size_t index = 0;
    while (std::getline(err, line)) {
      // Only complete lines: the last one may still be being written.
      if (err.eof() || index++ < lines_read) {
        continue;
      }
      ++lines_read;
      std::smatch match;
      if (std::regex_match(line, match, estimate)) {
        double amount = std::stod(match[3]);
        estimates.push_back({line, match[4] == "min" ? amount * 60 : amount, Clock::now()});
      }
    }
  };
  while (child.running() && Clock::now() < deadline) {
    scan();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const Clock::time_point ended = Clock::now();
  REQUIRE(child.wait() == 0);
  scan();
  INFO(child.err());
  REQUIRE_FALSE(estimates.empty());
  for (const Estimate& e : estimates) {
    const double actual = std::chrono::duration<double>(ended - e.seen).count();
    INFO(e.line << " (the apply then took " << actual << " s more)");
    // Rounded to 5 s steps and measured while the mix of operations
    // changes: within a factor of three, give or take five seconds. The
    // rate-limit note's guess for Synapse's defaults is minutes.
    CHECK(e.seconds_left <= actual * 3 + 5);
    CHECK(e.seconds_left >= actual / 3 - 5);
  }
}

}  // namespace progress_estimate_test
