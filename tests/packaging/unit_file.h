#pragma once
// systemd unit files read the way systemd reads them, for checking the
// packaged units without systemd.

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace packaging_test {

/// A unit file: `[Section]` headers, `Key=value` lines (a key may repeat),
/// `#` and `;` comment lines, and a trailing backslash joining the next line.
struct UnitFile {
  /// Lines that are none of those, as "line N: text"; empty for a good file.
  std::vector<std::string> problems;
  /// Section name → its `Key=value` pairs in file order.
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> sections;

  /// Every value of `key` in `section`, in order; empty when there is none.
  std::vector<std::string> values(const std::string& section, const std::string& key) const;
  /// The value of `key` in `section`; nullopt when it is absent or given more than once.
  std::optional<std::string> value(const std::string& section, const std::string& key) const;
};

/// Parses `text` as a unit file.
UnitFile parse_unit_file(const std::string& text);

/// A command line split at blanks. The packaged units quote nothing, so a
/// quote character is kept as it is (and a test comparing words sees it).
std::vector<std::string> split_words(const std::string& line);

/// A systemd time span ("45s", "2min", "1min 30s", "90") in seconds; nullopt when it is not one.
std::optional<double> parse_time_span(const std::string& text);

}  // namespace packaging_test
