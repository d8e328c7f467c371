#pragma once
// Fault injection: make the next N requests that match a method and path fail
// with a status (and errcode), answer late, or lose their connection — so
// clients' retry and error paths can be tested against a real HTTP server.

#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "mxsim/request.h"

namespace mxsim {

/// One rule. A request matches when the method matches ("*" = any) and the
/// path (raw or decoded) starts with `path_prefix` and/or contains a match of
/// `path_regex`; empty criteria match everything.
struct FaultRule {
  uint64_t id = 0;  ///< assigned by FaultInjector::add
  std::string method = "*";
  std::string path_prefix;
  std::string path_regex;
  int64_t times = 1;  ///< matching requests to affect; -1 = until cleared
  int status = 0;     ///< > 0: answer with this status instead of handling
  std::string errcode = "M_UNKNOWN";
  std::string error = "Injected fault";
  std::optional<int64_t> retry_after_ms;  ///< added to the body (and Retry-After) when set
  int64_t delay_ms = 0;                   ///< wait this long first (then fail or handle normally)
  bool drop = false;                      ///< close the connection without a complete answer

  /// The rule as JSON (the control endpoint's shape).
  nlohmann::json to_json() const;
  /// Parses the control endpoint's JSON; throws MatrixError 400 M_BAD_JSON on bad input.
  static FaultRule from_json(const nlohmann::json& json);
};

/// What to do with one request.
struct FaultDecision {
  int64_t delay_ms = 0;
  std::optional<ApiResponse> response;  ///< set when the request is not to be handled
};

/// Thread-safe list of fault rules, consumed as requests match.
class FaultInjector {
 public:
  /// Adds `rule` and returns its id. Throws MatrixError 400 when its regex is invalid.
  uint64_t add(FaultRule rule);
  /// Shorthand: fail the next `times` `method` requests under `path_prefix` with `status`/`errcode`.
  uint64_t fail_next(const std::string& method, const std::string& path_prefix, int times, int status,
                     const std::string& errcode = "M_UNKNOWN");
  /// Removes rule `id`; false when unknown.
  bool remove(uint64_t id);
  /// Removes every rule.
  void clear();
  /// The rules still active.
  std::vector<FaultRule> rules() const;
  /// The decision for one request, consuming one use of the first matching rule; nullopt when none matches.
  std::optional<FaultDecision> take(const std::string& method, const std::string& raw_path,
                                    const std::string& decoded_path);

 private:
  struct Entry {
    FaultRule rule;
    std::optional<std::regex> regex;
  };
  mutable std::mutex m_mutex;
  uint64_t m_next_id = 0;
  std::vector<Entry> m_entries;
};

}  // namespace mxsim
