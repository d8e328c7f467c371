// The metrics registry: what render() writes for each kind of family (whole
// expositions compared), the order of families and series, escaping, bucket
// cumulation, the misuses that throw std::logic_error, and exact sums under
// concurrent increments.

#include "controller/telemetry/metrics_registry.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <thread>
#include <vector>

namespace metrics_registry_test {

namespace {

using controller::telemetry::Labels;
using controller::telemetry::MetricsRegistry;

}  // namespace

TEST_CASE("metrics registry: counters, gauges and histograms render in name order", "[registry]") {
  MetricsRegistry registry;
  registry.declare_gauge("mxctl_pass_duration_seconds_last", "How long the last pass took.");
  registry.declare_counter("mxctl_passes_total", "Passes run, by outcome.");
  registry.declare_histogram("mxctl_request_seconds", "Homeserver request latency.", {0.1, 1});
  registry.add("mxctl_passes_total", {{"outcome", "ok"}});
  registry.add("mxctl_passes_total", {{"outcome", "ok"}}, 2);
  registry.add("mxctl_passes_total", {{"outcome", "error"}}, 0.5);
  registry.set("mxctl_pass_duration_seconds_last", {}, 1.25);
  registry.observe("mxctl_request_seconds", {{"method", "GET"}}, 0.05);

  CHECK(registry.render() ==
        "# HELP mxctl_pass_duration_seconds_last How long the last pass took.\n"
        "# TYPE mxctl_pass_duration_seconds_last gauge\n"
        "mxctl_pass_duration_seconds_last 1.25\n"
        "# HELP mxctl_passes_total Passes run, by outcome.\n"
        "# TYPE mxctl_passes_total counter\n"
        "mxctl_passes_total{outcome=\"error\"} 0.5\n"
        "mxctl_passes_total{outcome=\"ok\"} 3\n"
        "# HELP mxctl_request_seconds Homeserver request latency.\n"
        "# TYPE mxctl_request_seconds histogram\n"
        "mxctl_request_seconds_bucket{method=\"GET\",le=\"0.1\"} 1\n"
        "mxctl_request_seconds_bucket{method=\"GET\",le=\"1\"} 1\n"
        "mxctl_request_seconds_bucket{method=\"GET\",le=\"+Inf\"} 1\n"
        "mxctl_request_seconds_sum{method=\"GET\"} 0.05\n"
        "mxctl_request_seconds_count{method=\"GET\"} 1\n");
}

TEST_CASE("metrics registry: labels are sorted by name and their order makes no new series", "[registry]") {
  MetricsRegistry registry;
  registry.declare_gauge("g", "G.");
  registry.set("g", {{"zone", "b"}, {"app", "x"}}, 1);
  registry.set("g", {{"app", "x"}, {"zone", "b"}}, 2);
  registry.set("g", {{"app", "x"}, {"zone", "a"}}, 3);
  registry.set("g", {{"app", "w"}, {"zone", "c"}}, 4);
  const std::string expected =
      "# HELP g G.\n"
      "# TYPE g gauge\n"
      "g{app=\"w\",zone=\"c\"} 4\n"
      "g{app=\"x\",zone=\"a\"} 3\n"
      "g{app=\"x\",zone=\"b\"} 2\n";
  CHECK(registry.render() == expected);
  // Stable: rendering again, with nothing changed, gives the same bytes.
  CHECK(registry.render() == expected);
}

TEST_CASE("metrics registry: label values and HELP are escaped as the format says", "[registry]") {
  MetricsRegistry registry;
  registry.declare_counter("c", "Back\\slash, \"quotes\" stay,\nnew line.");
  registry.add("c", {{"v", "a\\b \"q\"\nz"}});
  CHECK(registry.render() ==
        "# HELP c Back\\\\slash, \"quotes\" stay,\\nnew line.\n"
        "# TYPE c counter\n"
        "c{v=\"a\\\\b \\\"q\\\"\\nz\"} 1\n");
}

TEST_CASE("metrics registry: histogram buckets are cumulative and end with +Inf", "[registry]") {
  MetricsRegistry registry;
  registry.declare_histogram("h", "H.", {1, 2.5, 10});
  for (double value : {0.5, 1.0, 2.0, 2.5, 3.0, 11.0, 100.0}) {
    registry.observe("h", {}, value);
  }
  // A value equal to a bound belongs to that bucket (le = "less or equal").
  CHECK(registry.render() ==
        "# HELP h H.\n"
        "# TYPE h histogram\n"
        "h_bucket{le=\"1\"} 2\n"
        "h_bucket{le=\"2.5\"} 4\n"
        "h_bucket{le=\"10\"} 5\n"
        "h_bucket{le=\"+Inf\"} 7\n"
        "h_sum 120\n"
        "h_count 7\n");
  SECTION("NaN is counted in +Inf only") {
    registry.observe("h", {}, std::numeric_limits<double>::quiet_NaN());
    const std::string text = registry.render();
    CHECK(text.find("h_bucket{le=\"1\"} 2\n") != std::string::npos);
    CHECK(text.find("h_bucket{le=\"+Inf\"} 8\n") != std::string::npos);
    CHECK(text.find("h_sum NaN\n") != std::string::npos);
  }
}

TEST_CASE("metrics registry: a family without series still shows, totals start at zero", "[registry]") {
  MetricsRegistry registry;
  registry.declare_counter("c_total", "C.");
  registry.declare_gauge("g", "");
  registry.declare_histogram("h", "H.", {1});
  CHECK(registry.render() ==
        "# HELP c_total C.\n"
        "# TYPE c_total counter\n"
        "c_total 0\n"
        "# HELP g\n"
        "# TYPE g gauge\n"
        "# HELP h H.\n"
        "# TYPE h histogram\n"
        "h_bucket{le=\"1\"} 0\n"
        "h_bucket{le=\"+Inf\"} 0\n"
        "h_sum 0\n"
        "h_count 0\n");
  SECTION("the zero stands in only until a series exists") {
    registry.add("c_total", {{"kind", "a"}});
    CHECK(registry.render().find("c_total 0\n") == std::string::npos);
    CHECK(registry.render().find("c_total{kind=\"a\"} 1\n") != std::string::npos);
  }
}

TEST_CASE("metrics registry: special values are spelled +Inf, -Inf and NaN", "[registry]") {
  MetricsRegistry registry;
  registry.declare_gauge("g", "G.");
  registry.set("g", {{"v", "a"}}, std::numeric_limits<double>::infinity());
  registry.set("g", {{"v", "b"}}, -std::numeric_limits<double>::infinity());
  registry.set("g", {{"v", "c"}}, std::numeric_limits<double>::quiet_NaN());
  registry.set("g", {{"v", "d"}}, -2);
  CHECK(registry.render() ==
        "# HELP g G.\n"
        "# TYPE g gauge\n"
        "g{v=\"a\"} +Inf\n"
        "g{v=\"b\"} -Inf\n"
        "g{v=\"c\"} NaN\n"
        "g{v=\"d\"} -2\n");
}

TEST_CASE("metrics registry: misuse is a logic error", "[registry]") {
  MetricsRegistry registry;
  registry.declare_counter("c", "C.");
  registry.declare_gauge("g", "G.");
  registry.declare_histogram("h", "H.", {1, 2});

  SECTION("an undeclared family") {
    CHECK_THROWS_AS(registry.add("nope"), std::logic_error);
    CHECK_THROWS_AS(registry.set("nope", {}, 1), std::logic_error);
    CHECK_THROWS_AS(registry.observe("nope", {}, 1), std::logic_error);
  }
  SECTION("the wrong kind") {
    CHECK_THROWS_WITH(registry.add("g"), "metric g is a gauge, not a counter");
    CHECK_THROWS_AS(registry.set("c", {}, 1), std::logic_error);
    CHECK_THROWS_AS(registry.observe("c", {}, 1), std::logic_error);
    CHECK_THROWS_AS(registry.add("h"), std::logic_error);
  }
  SECTION("a negative or NaN increment") {
    CHECK_THROWS_AS(registry.add("c", {}, -1), std::logic_error);
    CHECK_THROWS_AS(registry.add("c", {}, std::numeric_limits<double>::quiet_NaN()), std::logic_error);
  }
  SECTION("a label called le on a histogram") {
    CHECK_THROWS_WITH(registry.observe("h", {{"le", "1"}}, 1),
                      "histogram h: the label \"le\" is reserved for buckets");
  }
  SECTION("invalid or repeated label names") {
    CHECK_THROWS_AS(registry.add("c", {{"__name", "x"}}), std::logic_error);
    CHECK_THROWS_AS(registry.add("c", {{"1st", "x"}}), std::logic_error);
    CHECK_THROWS_AS(registry.add("c", {{"a-b", "x"}}), std::logic_error);
    CHECK_THROWS_AS(registry.add("c", {{"a:b", "x"}}), std::logic_error);
    CHECK_THROWS_AS(registry.add("c", {{"", "x"}}), std::logic_error);
    CHECK_THROWS_AS(registry.add("c", {{"a", "x"}, {"a", "y"}}), std::logic_error);
  }
  SECTION("invalid metric names") {
    CHECK_THROWS_AS(registry.declare_counter("", "X."), std::logic_error);
    CHECK_THROWS_AS(registry.declare_counter("1x", "X."), std::logic_error);
    CHECK_THROWS_AS(registry.declare_gauge("a-b", "X."), std::logic_error);
    CHECK_THROWS_AS(registry.declare_histogram("a b", "X.", {}), std::logic_error);
  }
  SECTION("histogram bounds that are not finite and strictly increasing") {
    CHECK_THROWS_AS(registry.declare_histogram("h2", "X.", {1, 1}), std::logic_error);
    CHECK_THROWS_AS(registry.declare_histogram("h2", "X.", {2, 1}), std::logic_error);
    CHECK_THROWS_AS(registry.declare_histogram("h2", "X.", {1, std::numeric_limits<double>::infinity()}),
                    std::logic_error);
    CHECK_THROWS_AS(registry.declare_histogram("h2", "X.", {std::numeric_limits<double>::quiet_NaN()}),
                    std::logic_error);
  }
  SECTION("a second, different declaration of a name") {
    CHECK_NOTHROW(registry.declare_counter("c", "C."));
    CHECK_THROWS_AS(registry.declare_counter("c", "Other help."), std::logic_error);
    CHECK_THROWS_AS(registry.declare_gauge("c", "C."), std::logic_error);
    CHECK_THROWS_AS(registry.declare_histogram("h", "H.", {1, 3}), std::logic_error);
  }
  SECTION("names that clash with a histogram's samples") {
    CHECK_THROWS_AS(registry.declare_counter("h_count", "X."), std::logic_error);
    CHECK_THROWS_AS(registry.declare_gauge("h_bucket", "X."), std::logic_error);
    CHECK_THROWS_AS(registry.declare_histogram("c", "X.", {1}), std::logic_error);
    MetricsRegistry other;
    other.declare_gauge("x_sum", "X.");
    CHECK_THROWS_AS(other.declare_histogram("x", "X.", {1}), std::logic_error);
  }
  // None of the refused calls left anything behind.
  CHECK(registry.render() ==
        "# HELP c C.\n# TYPE c counter\nc 0\n"
        "# HELP g G.\n# TYPE g gauge\n"
        "# HELP h H.\n# TYPE h histogram\n"
        "h_bucket{le=\"1\"} 0\nh_bucket{le=\"2\"} 0\nh_bucket{le=\"+Inf\"} 0\nh_sum 0\nh_count 0\n");
}

TEST_CASE("metrics registry: concurrent increments from several threads sum exactly", "[registry]") {
  MetricsRegistry registry;
  registry.declare_counter("c", "C.");
  registry.declare_histogram("h", "H.", {0.5});
  constexpr int k_threads = 8;
  constexpr int k_each = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < k_threads; ++t) {
    threads.emplace_back([&registry, t] {
      const Labels parity{{"parity", t % 2 == 0 ? "even" : "odd"}};
      for (int i = 0; i < k_each; ++i) {
        registry.add("c", parity);
        registry.observe("h", {}, 1);
        if (i % 1000 == 0) {
          // Renders interleaved with writes must neither crash nor block them.
          (void)registry.render();
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  const std::string text = registry.render();
  const std::string half = std::to_string(k_threads / 2 * k_each);
  const std::string all = std::to_string(k_threads * k_each);
  CHECK(text.find("c{parity=\"even\"} " + half + "\n") != std::string::npos);
  CHECK(text.find("c{parity=\"odd\"} " + half + "\n") != std::string::npos);
  CHECK(text.find("h_count " + all + "\n") != std::string::npos);
  CHECK(text.find("h_sum " + all + "\n") != std::string::npos);
  CHECK(text.find("h_bucket{le=\"+Inf\"} " + all + "\n") != std::string::npos);
}

}  // namespace metrics_registry_test
