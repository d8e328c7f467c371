#pragma once
// A small Matrix HTTP client: JSON in, JSON out, errors classified. Shared by
// everything that talks to a homeserver. Thread-safe: concurrent requests use
// separate connections from a pool (cpp-httplib serialises requests on one).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/homeserver/request_watchdog.h"
#include "model/result.h"

namespace httplib {
class Client;
}

namespace adapters {

/// How a request went wrong, with the homeserver's own words (its errcode
/// is the error's: `error.errcode`, empty when the body had none).
struct MatrixFailure {
  model::Error error;
  int status = 0;  ///< HTTP status; 0 when no answer came (refused, timeout)
  /// No (complete) answer came in time: the read timeout, the request's
  /// deadline or the pass deadline. Not repeated by get(): the server had
  /// its full time already.
  bool timed_out = false;
};

/// Request counters, for `--stats` and tests ("a no-op pass made 0 writes").
struct ClientStats {
  std::uint64_t reads = 0;
  std::uint64_t writes = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t retries = 0;
  std::chrono::microseconds waiting{0};  ///< wall time spent waiting for answers
  /// Requests sent, by (method, status class): "2xx" ... "5xx", or
  /// "none" when no answer came (refused, timed out, cut off).
  std::map<std::pair<std::string, std::string>, std::uint64_t> by_status;
};

/// One GET answered with a 2xx, as recorded for a later replay.
struct RecordedRead {
  std::string path;
  /// SHA-256 (hex) of the answer's bytes.
  std::string digest;
  bool operator==(const RecordedRead&) const = default;
};

/// Bounds on one request and its answer. `size_setting` and `time_setting`
/// name the settings that set them, for messages.
struct AnswerLimits {
  /// The largest answer read; a longer one is abandoned as soon as it is
  /// announced (Content-Length) or has arrived this far.
  std::uint64_t max_bytes = 64ull << 20;
  /// From sending the request to the answer's last byte, however the bytes
  /// trickle in (the read timeout only bounds the silence between them).
  std::chrono::milliseconds deadline{120'000};
  const char* size_setting = "maxAnswerMegabytes";
  const char* time_setting = "requestTimeoutSeconds";
};

/// Options of a client.
struct ClientOptions {
  std::chrono::milliseconds connect_timeout{5000};
  /// No byte for this long while waiting for or reading an answer ends the
  /// request ("no answer from ... within 30 s"). Not for the large answers,
  /// which servers build whole before they send a byte.
  std::chrono::milliseconds read_timeout{30000};
  /// Every request but the large answers.
  AnswerLimits limits;
  /// GETs parsed through a filter (/sync: 60 MB at 6,000 rooms, built by
  /// Synapse for minutes before it sends anything).
  AnswerLimits large_limits{512ull << 20, std::chrono::milliseconds(600'000), "maxSyncAnswerMegabytes",
                            "syncTimeoutSeconds"};
  /// The pass deadline: no request starts after it or runs past it, and
  /// get() stops repeating a read at it. Without one, rate-limited reads
  /// count against read_attempts like transient failures.
  std::optional<std::chrono::steady_clock::time_point> deadline;
  /// Reads (GET) are retried this many times on transient faults (and, with
  /// a deadline, on 429s until it); writes are retried by the executor,
  /// which knows whether that is safe.
  int read_attempts = 4;
  std::chrono::milliseconds read_backoff{200};
  /// Refuse every request but GET without sending it (a plan is a reader:
  /// whatever it calls, the homeserver is not changed).
  bool read_only = false;
  /// PEM file of the certificate authorities an https homeserver's
  /// certificate must chain to (caFile); empty: the system's. Verification
  /// is never switched off.
  std::string ca_file;
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
  /// transient failures and 429s (waiting at least the server's
  /// retry_after_ms / Retry-After, plus jitter), but not timeouts. A 2xx
  /// answer with an empty body is JSON null: callers check the shape they
  /// need (answer_shape.h). Failures name the request and the cause: the
  /// status and errcode, "no answer from <host> within 30 s", "the answer
  /// ... exceeded 64 MB", a TLS certificate's fault.
  Response get(const std::string& path);
  /// GET like get(path), parsing the answer through `filter` (nlohmann's
  /// parser callback: it sees each value as it is parsed and may drop it),
  /// so a large answer is consumed piece by piece instead of held whole;
  /// bounded by ClientOptions::large_limits. A retried request runs
  /// `filter` over the new answer from the start: it must tolerate seeing
  /// the same values again.
  Response get(const std::string& path, const nlohmann::json::parser_callback_t& filter);
  /// GET like get(path), retried alike, but the answer is not parsed: the
  /// SHA-256 (hex) of its bytes, to compare with a RecordedRead.
  tl::expected<std::string, MatrixFailure> get_digest(const std::string& path);
  /// Starts recording every GET made without a parser filter that is
  /// answered with a 2xx (its path and the digest of the answer), until
  /// take_recorded_reads().
  void record_reads();
  /// The reads recorded since record_reads(), in the order their answers
  /// came; recording stops.
  std::vector<RecordedRead> take_recorded_reads();
  /// PUT/POST/DELETE with a JSON body; not retried here.
  Response put(const std::string& path, const nlohmann::json& body);
  Response post(const std::string& path, const nlohmann::json& body);
  Response del(const std::string& path, const nlohmann::json& body);

  ClientStats stats() const;
  /// Replaces ClientOptions::deadline, for a client that serves pass after
  /// pass. Only while no request of this client is in flight.
  void set_deadline(std::optional<std::chrono::steady_clock::time_point> deadline) { m_options.deadline = deadline; }
  /// Shuts the client down from any thread: requests in flight end at once
  /// (failing as timed out, so they are not repeated), retry waits end, and
  /// later requests fail without being sent. Cannot be undone.
  void cancel();
  /// Adds another client's counts to this one's (a short-lived client used
  /// on a user's behalf still counts towards the pass).
  void absorb(const ClientStats& other);
  const std::string& base_url() const { return m_base_url; }
  /// ClientOptions::read_only: writes are refused without being sent.
  bool read_only() const { return m_options.read_only; }
  /// The options this client was made with (for another client of the
  /// same pass, acting on a user's behalf).
  const ClientOptions& options() const { return m_options; }

 private:
  // `digest_out`, for a GET: the answer's digest goes there, unparsed
  // (the response is JSON null).
  Response send(const std::string& method, const std::string& path, const nlohmann::json* body,
                const nlohmann::json::parser_callback_t* filter = nullptr, std::string* digest_out = nullptr);
  // GET through `send_once`, repeated as get() says.
  template <typename SendOnce>
  Response read_with_retries(const SendOnce& send_once);
  bool recording() const;
  std::unique_ptr<httplib::Client> acquire(std::chrono::milliseconds read_timeout);
  void release(std::unique_ptr<httplib::Client> client);

  std::string m_base_url;
  std::string m_token;
  ClientOptions m_options;
  std::mutex m_pool_mutex;
  std::vector<std::unique_ptr<httplib::Client>> m_pool;
  mutable std::mutex m_stats_mutex;
  ClientStats m_stats;
  bool m_recording = false;                 // guarded by m_stats_mutex
  std::vector<RecordedRead> m_recorded;     // guarded by m_stats_mutex
  std::mutex m_cancel_mutex;
  std::condition_variable m_cancelled_changed;
  bool m_cancelled = false;
  /// Declared last: destroyed first, so no watch outlives a client.
  RequestWatchdog m_watchdog;
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
