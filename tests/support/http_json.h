#pragma once
// JSON over HTTP for tests that talk to a real homeserver directly, beside
// mxctl: to set it up, to make drift by hand, and to read what it holds.

#include <nlohmann/json.hpp>
#include <string>

namespace testing_support {

/// A homeserver's answer.
struct JsonAnswer {
  int status = 0;        ///< HTTP status; 0 when no answer came (then `error` says why)
  nlohmann::json body;   ///< the parsed body; null when empty or not JSON
  std::string error;     ///< transport failure, empty when an answer came

  bool ok() const { return status >= 200 && status < 300; }
  /// "METHOD target: 404 {...}" for test messages.
  std::string describe() const;
};

/// Sends one request to `base_url` (scheme://host[:port], no path) with a
/// bearer `token` (none when empty) and `body` as JSON (none when null, but
/// POST and PUT always send at least `{}`). Never throws on HTTP errors.
JsonAnswer http_json(const std::string& base_url, const std::string& method, const std::string& target,
                     const std::string& token, const nlohmann::json& body = nullptr);

/// `text` percent-encoded for one path segment or query value
/// (`!room:server` → `%21room%3Aserver`).
std::string url_encode(const std::string& text);

}  // namespace testing_support
