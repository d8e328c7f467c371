#pragma once
// A small Matrix HTTP client: JSON in, JSON out, errors classified. Shared by
// everything that talks to a homeserver. Thread-safe: concurrent requests use
// separate connections from a pool (cpp-httplib serialises requests on one).

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/result.h"

namespace httplib {
class Client;
}

namespace adapters {

/// How a request went wrong, with the homeserver's own words.
struct MatrixFailure {
  model::Error error;
  int status = 0;       ///< HTTP status; 0 when no answer came (refused, timeout)
  std::string errcode;  ///< M_FORBIDDEN, ...; empty when the body had none
};

/// Request counters, for `--stats` and tests ("a no-op pass made 0 writes").
struct ClientStats {
  std::uint64_t reads = 0;
  std::uint64_t writes = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t retries = 0;
  std::chrono::microseconds waiting{0};  ///< wall time spent waiting for answers
};

/// Options of a client.
struct ClientOptions {
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds read_timeout{30000};
  /// Reads (GET) are retried this many times on transient faults and 429s;
  /// writes are retried by the executor, which knows whether that is safe.
  int read_attempts = 4;
  std::chrono::milliseconds read_backoff{200};
  /// Refuse every request but GET without sending it (a plan is a reader:
  /// whatever it calls, the homeserver is not changed).
  bool read_only = false;
};

/// A Matrix client bound to one homeserver and one access token.
class MatrixClient {
 public:
  using Response = tl::expected<nlohmann::json, MatrixFailure>;

  /// `base_url` like "https://matrix.example.org" (no trailing slash).
  MatrixClient(std::string base_url, std::string access_token, ClientOptions options = {});
  ~MatrixClient();
  MatrixClient(const MatrixClient&) = delete;
  MatrixClient& operator=(const MatrixClient&) = delete;

  /// GET `path` (already percent-encoded, may carry a query). Retries
  /// transient failures and 429s (honouring retry_after_ms / Retry-After).
  Response get(const std::string& path);
  /// GET like get(path), parsing the answer through `filter` (nlohmann's
  /// parser callback: it sees each value as it is parsed and may drop it),
  /// so a large answer is consumed piece by piece instead of held whole. A
  /// retried request runs `filter` over the new answer from the start: it
  /// must tolerate seeing the same values again.
  Response get(const std::string& path, const nlohmann::json::parser_callback_t& filter);
  /// PUT/POST/DELETE with a JSON body; not retried here.
  Response put(const std::string& path, const nlohmann::json& body);
  Response post(const std::string& path, const nlohmann::json& body);
  Response del(const std::string& path, const nlohmann::json& body);

  ClientStats stats() const;
  /// Adds another client's counts to this one's (a short-lived client used
  /// on a user's behalf still counts towards the pass).
  void absorb(const ClientStats& other);
  const std::string& base_url() const { return m_base_url; }
  /// ClientOptions::read_only: writes are refused without being sent.
  bool read_only() const { return m_options.read_only; }

 private:
  Response send(const std::string& method, const std::string& path, const nlohmann::json* body,
                const nlohmann::json::parser_callback_t* filter = nullptr);
  std::unique_ptr<httplib::Client> acquire();
  void release(std::unique_ptr<httplib::Client> client);

  std::string m_base_url;
  std::string m_token;
  ClientOptions m_options;
  std::mutex m_pool_mutex;
  std::vector<std::unique_ptr<httplib::Client>> m_pool;
  mutable std::mutex m_stats_mutex;
  ClientStats m_stats;
};

/// Percent-encodes one path segment (user ids, room ids, aliases, types).
std::string encode_path_segment(const std::string& segment);

/// Classifies an HTTP answer: 401/403 forbidden, 404 not_found, 409 and
/// M_ROOM_IN_USE/M_USER_IN_USE conflict, 429 rate_limited (with
/// retry_after from the body or `retry_after_header` seconds), 5xx and
/// status 0 transient, other 4xx invalid. The message names the method,
/// path (tokens redacted), status and errcode.
MatrixFailure classify_failure(const std::string& method, const std::string& path, int status,
                               const std::string& body, const std::string& retry_after_header);

}  // namespace adapters
