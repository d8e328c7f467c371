#include "controller/telemetry/exposition_text.h"

#include <charconv>
#include <cmath>
#include <system_error>

namespace controller::telemetry {
namespace {

bool is_ascii_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_ascii_digit(char c) { return c >= '0' && c <= '9'; }

// Every double below this is an exact integer when it has no fraction, and
// its digits are short enough that plain notation reads better than 1e+15.
constexpr double k_plain_integer_limit = 9007199254740992.0;  // 2^53

std::string escape(std::string_view text, bool quote) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

bool is_valid_metric_name(std::string_view name) {
  if (name.empty() || is_ascii_digit(name.front())) {
    return false;
  }
  for (char c : name) {
    if (!is_ascii_letter(c) && !is_ascii_digit(c) && c != '_' && c != ':') {
      return false;
    }
  }
  return true;
}

bool is_valid_label_name(std::string_view name) {
  if (name.empty() || is_ascii_digit(name.front()) || name.starts_with("__")) {
    return false;
  }
  for (char c : name) {
    if (!is_ascii_letter(c) && !is_ascii_digit(c) && c != '_') {
      return false;
    }
  }
  return true;
}

std::string format_value(double value) {
  if (std::isnan(value)) {
    return "NaN";
  }
  if (std::isinf(value)) {
    return value > 0 ? "+Inf" : "-Inf";
  }
  char buffer[64];
  const bool plain_integer = std::fabs(value) < k_plain_integer_limit && std::trunc(value) == value;
  // Without a precision to_chars writes the shortest text that reads back as
  // the same double, so nothing is lost between us and the scraper.
  const auto written = plain_integer ? std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::fixed)
                                     : std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, written.ptr);
}

std::string escape_label_value(std::string_view value) { return escape(value, true); }

std::string escape_help(std::string_view help) { return escape(help, false); }

}  // namespace controller::telemetry
