// The lexical rules of the exposition format: which metric and label names
// are valid, and sample values spelled so that they read back bit for bit.

#include "controller/telemetry/exposition_text.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

namespace exposition_text_test {

namespace {

using namespace controller::telemetry;

// The double a scraper reads back from `text` (strtod reads "+Inf" and "NaN").
double read_back(const std::string& text) { return std::strtod(text.c_str(), nullptr); }

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

}  // namespace

TEST_CASE("exposition text: metric names", "[exposition]") {
  for (const char* good : {"a", "_", ":", "mxctl_passes_total", "a:b_c9", "A_Z"}) {
    CHECK(is_valid_metric_name(good));
  }
  for (const char* bad : {"", "9a", "a-b", "a b", "a.b", "é", "a\n"}) {
    CHECK_FALSE(is_valid_metric_name(bad));
  }
}

TEST_CASE("exposition text: label names (no colon, no __ prefix)", "[exposition]") {
  for (const char* good : {"a", "_a", "a__b", "outcome", "le", "A9"}) {
    CHECK(is_valid_label_name(good));
  }
  for (const char* bad : {"", "__a", "__", "9a", "a:b", "a-b", "é"}) {
    CHECK_FALSE(is_valid_label_name(bad));
  }
}

TEST_CASE("exposition text: values are plain for integers and round-trip for the rest", "[exposition]") {
  CHECK(format_value(0) == "0");
  CHECK(format_value(3) == "3");
  CHECK(format_value(-2) == "-2");
  CHECK(format_value(1000000) == "1000000");
  CHECK(format_value(9007199254740991.0) == "9007199254740991");
  CHECK(format_value(0.1) == "0.1");
  CHECK(format_value(1.25) == "1.25");
  CHECK(format_value(1e300) == "1e+300");
  CHECK(format_value(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(format_value(-std::numeric_limits<double>::infinity()) == "-Inf");
  CHECK(format_value(std::numeric_limits<double>::quiet_NaN()) == "NaN");

  for (double value : {0.1, 1.0 / 3, 2.0 / 3 * 1e-7, 123456.789, 1e15 + 0.5, 9007199254740992.0, 1e21,
                       std::numeric_limits<double>::max(), std::numeric_limits<double>::min(),
                       std::numeric_limits<double>::denorm_min(), -0.0, -1e-300}) {
    INFO(format_value(value));
    CHECK(same_bits(read_back(format_value(value)), value));
    CHECK(format_value(value).find_first_of(" \n") == std::string::npos);
  }
}

TEST_CASE("exposition text: escaping of label values and HELP", "[exposition]") {
  CHECK(escape_label_value("plain é ✓") == "plain é ✓");
  CHECK(escape_label_value("a\\b\"c\nd") == "a\\\\b\\\"c\\nd");
  CHECK(escape_label_value("\\n") == "\\\\n");
  CHECK(escape_help("a\\b\"c\nd") == "a\\\\b\"c\\nd");
}

}  // namespace exposition_text_test
