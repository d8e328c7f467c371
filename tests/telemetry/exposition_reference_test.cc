// The exposition read back by a parser that is not ours: the official
// Python client's (Debian's python3-prometheus-client), run on a rendered
// registry by parse_exposition.py. What it reads must be what was recorded,
// label values with quotes, backslashes, new lines and UTF-8 included.

#include "controller/telemetry/metrics_registry.h"
#include "tests/support/client_view.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <limits>
#include <string>

namespace exposition_reference_test {

namespace {

using controller::telemetry::MetricsRegistry;
using nlohmann::json;

using testing_support::reference_python;

// What the reference parser reads in `exposition`, as parse_exposition.py prints it.
json parse_with_reference(const std::string& exposition) {
  testing_support::TempDir dir;
  const std::string file = dir.write("metrics.txt", exposition);
  const auto result = testing_support::run_process(
      {reference_python(), std::string(MXCTL_SOURCE_DIR) + "/tests/telemetry/parse_exposition.py", file});
  INFO("parse_exposition.py stderr: " << result.err);
  REQUIRE(result.exit_code == 0);
  return json::parse(result.out);
}

json sample(const std::string& name, json labels, json value) {
  return {{"name", name}, {"labels", std::move(labels)}, {"value", std::move(value)}};
}

json family(const std::string& name, const std::string& type, const std::string& help, json samples) {
  return {{"name", name}, {"type", type}, {"documentation", help}, {"samples", std::move(samples)}};
}

}  // namespace

TEST_CASE("exposition reference: the Python client's parser reads back what was recorded", "[exposition]") {
  MetricsRegistry registry;
  registry.declare_counter("mxctl_passes_total", "Passes run, by outcome.");
  registry.add("mxctl_passes_total", {{"outcome", "ok"}}, 3);
  registry.add("mxctl_passes_total", {{"outcome", "error"}});
  registry.declare_counter("mxctl_retries", "Retries (no series yet).");
  registry.declare_gauge("mxctl_room_members", "Members per room; a back\\slash, \"quotes\"\nand a second line.");
  registry.set("mxctl_room_members", {{"server", "hs1"}, {"room", ""}}, 0);
  registry.set("mxctl_room_members", {{"server", "hs1"}, {"room", "C:\\path\\n"}}, 1.5);
  registry.set("mxctl_room_members", {{"server", "hs1"}, {"room", "a}b,c=d"}}, -0.25);
  registry.set("mxctl_room_members", {{"server", "hs\"2\""}, {"room", "say \"hi\""}},
               std::numeric_limits<double>::infinity());
  registry.set("mxctl_room_members", {{"server", "hs1"}, {"room", "two\nlines"}},
               std::numeric_limits<double>::quiet_NaN());
  registry.set("mxctl_room_members", {{"server", "hs1"}, {"room", "ünïcödé ✓ 🎉"}}, 1e300);
  registry.declare_histogram("mxctl_request_seconds", "Request latency.", {0.005, 0.1, 1});
  for (double seconds : {0.001, 0.05, 0.05, 0.5, 2.0}) {
    registry.observe("mxctl_request_seconds", {{"method", "GET"}}, seconds);
  }

  const json bucket_labels = {{"method", "GET"}};
  auto le = [&](const char* bound) {
    json labels = bucket_labels;
    labels["le"] = bound;
    return labels;
  };
  // The Python client files a counter under its name without "_total" and
  // gives its samples the "_total" suffix (the OpenMetrics convention).
  const json expected = {
      family("mxctl_passes", "counter", "Passes run, by outcome.",
             {sample("mxctl_passes_total", {{"outcome", "error"}}, 1),
              sample("mxctl_passes_total", {{"outcome", "ok"}}, 3)}),
      family("mxctl_request_seconds", "histogram", "Request latency.",
             {sample("mxctl_request_seconds_bucket", le("0.005"), 1),
              sample("mxctl_request_seconds_bucket", le("0.1"), 3),
              sample("mxctl_request_seconds_bucket", le("1"), 4),
              sample("mxctl_request_seconds_bucket", le("+Inf"), 5),
              sample("mxctl_request_seconds_sum", bucket_labels, 2.601),
              sample("mxctl_request_seconds_count", bucket_labels, 5)}),
      family("mxctl_retries", "counter", "Retries (no series yet).", {sample("mxctl_retries_total", json::object(), 0)}),
      family("mxctl_room_members", "gauge", "Members per room; a back\\slash, \"quotes\"\nand a second line.",
             {sample("mxctl_room_members", {{"room", ""}, {"server", "hs1"}}, 0),
              sample("mxctl_room_members", {{"room", "C:\\path\\n"}, {"server", "hs1"}}, 1.5),
              sample("mxctl_room_members", {{"room", "a}b,c=d"}, {"server", "hs1"}}, -0.25),
              sample("mxctl_room_members", {{"room", "say \"hi\""}, {"server", "hs\"2\""}}, "+Inf"),
              sample("mxctl_room_members", {{"room", "two\nlines"}, {"server", "hs1"}}, "NaN"),
              sample("mxctl_room_members", {{"room", "ünïcödé ✓ 🎉"}, {"server", "hs1"}}, 1e300)}),
  };
  const json actual = parse_with_reference(registry.render());
  INFO("reference parser read: " << actual.dump(1));
  CHECK(actual == expected);
}

}  // namespace exposition_reference_test
