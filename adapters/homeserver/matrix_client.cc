#include "adapters/homeserver/matrix_client.h"

#include <httplib.h>

#include <algorithm>
#include <random>
#include <thread>

#include "adapters/redact.h"
#include "adapters/sha256.h"
#include "adapters/homeserver/transport_errors.h"

namespace adapters {

namespace {

using Clock = std::chrono::steady_clock;

bool is_read(const std::string& method) { return method == "GET"; }

// What is known about how a request went, for naming the cause of a failure.
struct Exchange {
  Clock::time_point started;
  Clock::time_point last_activity;  // the headers' or the last byte's arrival
  bool answered = false;            // the status line and headers arrived
  bool too_large = false;           // abandoned at AnswerLimits::max_bytes
  std::uint64_t announced = 0;      // Content-Length, when it was over the limit
  std::string body;
};

// Silence this close to the read timeout was the read timeout (httplib
// reports it as a plain read error).
bool silent_for(const Exchange& exchange, Clock::time_point now, std::chrono::milliseconds read_timeout) {
  return now - exchange.last_activity >= read_timeout - read_timeout / 20;
}

std::optional<std::uint64_t> content_length(const httplib::Response& response) {
  if (!response.has_header("Content-Length")) {
    return std::nullopt;
  }
  try {
    return std::stoull(response.get_header_value("Content-Length"));
  } catch (const std::exception&) {
    return std::nullopt;  // httplib refuses the body itself
  }
}

MatrixFailure failure_of(const std::string& request, model::Error::Kind kind, const std::string& what,
                         bool timed_out = false) {
  MatrixFailure failure;
  failure.error = model::make_error(kind, request + ": " + what);
  failure.timed_out = timed_out;
  return failure;
}

// A failure of the transport (no HTTP answer), in words.
MatrixFailure transport_failure(const std::string& request, const std::string& host, httplib::Client& client,
                                httplib::Error error, const ClientOptions& options, const std::string& ca_file) {
  using Kind = model::Error::Kind;
  switch (error) {
    case httplib::Error::Connection:
      return failure_of(request, Kind::transient, "cannot connect to " + host + " (connection refused or failed)");
    case httplib::Error::ConnectionTimeout:
      return failure_of(request, Kind::transient,
                        "cannot connect to " + host + " within " + duration_text(options.connect_timeout), true);
    case httplib::Error::Write:
      return failure_of(request, Kind::transient, "connection to " + host + " dropped while sending the request");
    case httplib::Error::Read:
      return failure_of(request, Kind::transient, "connection to " + host + " dropped while reading the answer");
    case httplib::Error::SSLConnection:
      return failure_of(request, Kind::transient, "the TLS handshake with " + host + " failed (is it an https server?)");
    case httplib::Error::SSLLoadingCerts:
      return failure_of(request, Kind::invalid, "cannot load the certificate authorities to trust from " +
                                                    (ca_file.empty() ? std::string("the system") : "caFile " + ca_file));
    case httplib::Error::SSLServerVerification:
      // Verification failed for good: repeating the request changes nothing.
      return failure_of(request, Kind::invalid,
                        describe_certificate_failure(client.get_openssl_verify_result(), host));
    default:
      return failure_of(request, Kind::transient, "request to " + host + " failed (" + httplib::to_string(error) + ")");
  }
}

}  // namespace

std::string encode_path_segment(const std::string& segment) {
  static const char* k_hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : segment) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += k_hex[c >> 4];
      out += k_hex[c & 15];
    }
  }
  return out;
}

MatrixFailure classify_failure(const std::string& method, const std::string& path, int status,
                               const std::string& body, const std::string& retry_after_header) {
  MatrixFailure failure;
  failure.status = status;
  std::string errcode;
  std::string detail;
  nlohmann::json parsed = nlohmann::json::parse(body, nullptr, false);
  std::optional<std::chrono::milliseconds> retry_after;
  if (parsed.is_object()) {
    // An error body of the wrong shape still leaves the status to go by.
    auto text = [&](const char* name) {
      auto it = parsed.find(name);
      return it != parsed.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    errcode = text("errcode");
    detail = text("error");
    if (parsed.contains("retry_after_ms") && parsed["retry_after_ms"].is_number_integer()) {
      retry_after = std::chrono::milliseconds(parsed["retry_after_ms"].get<std::int64_t>());
    }
  }
  if (!retry_after && !retry_after_header.empty()) {
    try {
      retry_after = std::chrono::seconds(std::stoll(retry_after_header));
    } catch (const std::exception&) {
      // An HTTP-date Retry-After is legal but rare; fall back to backoff.
    }
  }
  using Kind = model::Error::Kind;
  Kind kind = Kind::invalid;
  if (status == 0 || status >= 500) {
    kind = Kind::transient;
  } else if (status == 429 || errcode == "M_LIMIT_EXCEEDED") {
    kind = Kind::rate_limited;
  } else if (status == 401 || status == 403) {
    kind = Kind::forbidden;
  } else if (status == 404) {
    kind = Kind::not_found;
  } else if (status == 409 || errcode == "M_ROOM_IN_USE" || errcode == "M_USER_IN_USE") {
    kind = Kind::conflict;
  }
  std::string message = method + " " + path + ": ";
  if (status == 0) {
    message += detail;
  } else {
    message += "HTTP " + std::to_string(status);
    if (!errcode.empty()) {
      message += " " + errcode;
    }
    if (!detail.empty()) {
      message += ": " + detail;
    }
  }
  failure.error = model::Error{kind, redact(message, {}), kind == Kind::rate_limited ? retry_after : std::nullopt,
                               std::move(errcode)};
  return failure;
}

MatrixClient::MatrixClient(std::string base_url, std::string access_token, ClientOptions options)
    : m_base_url(std::move(base_url)), m_token(std::move(access_token)), m_options(std::move(options)) {}

MatrixClient::~MatrixClient() = default;

std::unique_ptr<httplib::Client> MatrixClient::acquire(std::chrono::milliseconds read_timeout) {
  std::unique_ptr<httplib::Client> client;
  {
    std::lock_guard<std::mutex> lock(m_pool_mutex);
    if (!m_pool.empty()) {
      client = std::move(m_pool.back());
      m_pool.pop_back();
    }
  }
  if (!client) {
    client = std::make_unique<httplib::Client>(m_base_url);
    client->set_connection_timeout(m_options.connect_timeout);
    client->set_write_timeout(m_options.read_timeout);
    client->set_keep_alive(true);
    // httplib writes a request's headers and body separately; with Nagle's
    // algorithm the body waits for the server's delayed ACK of the headers (up
    // to 40 ms on Linux), which capped a pass at ~200 writes/s with 8 in
    // flight whatever the server's speed (measured by the bench, issue #7).
    client->set_tcp_nodelay(true);
    if (!m_token.empty()) {
      client->set_bearer_token_auth(m_token);
    }
    client->enable_server_certificate_verification(true);
    if (!m_options.ca_file.empty()) {
      client->set_ca_cert_path(m_options.ca_file);
    }
  }
  // Per request: a large answer may be silent for as long as it may take.
  client->set_read_timeout(read_timeout);
  return client;
}

void MatrixClient::release(std::unique_ptr<httplib::Client> client) {
  std::lock_guard<std::mutex> lock(m_pool_mutex);
  m_pool.push_back(std::move(client));
}

MatrixClient::Response MatrixClient::send(const std::string& method, const std::string& path,
                                          const nlohmann::json* body, const nlohmann::json::parser_callback_t* filter,
                                          std::string* digest_out) {
  const std::string request = method + " " + redact(path, {});
  {
    std::lock_guard<std::mutex> lock(m_cancel_mutex);
    if (m_cancelled) {
      return tl::unexpected(failure_of(request, model::Error::Kind::transient, "not sent: the client was shut down", true));
    }
  }
  if (m_options.read_only && !is_read(method)) {
    return tl::unexpected(failure_of(request, model::Error::Kind::forbidden, "not sent: this pass only reads"));
  }
  const AnswerLimits& limits = filter ? m_options.large_limits : m_options.limits;
  const std::chrono::milliseconds read_timeout = filter ? limits.deadline : m_options.read_timeout;
  const std::string host = host_of(m_base_url);
  Exchange exchange;
  exchange.started = exchange.last_activity = Clock::now();
  Clock::time_point deadline = exchange.started + limits.deadline;
  const bool pass_bound = m_options.deadline && *m_options.deadline < deadline;
  if (pass_bound) {
    if (*m_options.deadline <= exchange.started) {
      return tl::unexpected(failure_of(request, model::Error::Kind::transient,
                                       "not sent: the pass deadline (passTimeoutMinutes) has passed", true));
    }
    deadline = *m_options.deadline;
  }
  httplib::Request req;
  req.method = method;
  req.path = path;
  if (body) {
    req.body = body->dump();
    req.set_header("Content-Type", "application/json");
  }
  // The answer is collected here, up to its limit, rather than by httplib,
  // which would take whatever the server sends.
  req.response_handler = [&](const httplib::Response& response) {
    exchange.answered = true;
    exchange.last_activity = Clock::now();
    const auto length = content_length(response);
    if (length && *length > limits.max_bytes) {
      exchange.too_large = true;
      exchange.announced = *length;
      return false;
    }
    if (length) {
      // Grown by appending, a /sync answer of tens of megabytes was copied
      // about twice over and its pages touched again each time.
      exchange.body.reserve(static_cast<std::size_t>(*length));
    }
    return true;
  };
  req.content_receiver = [&](const char* data, std::size_t size, std::uint64_t, std::uint64_t) {
    exchange.last_activity = Clock::now();
    if (exchange.body.size() + size > limits.max_bytes) {
      exchange.too_large = true;
      return false;
    }
    exchange.body.append(data, size);
    return true;
  };
  auto client = acquire(read_timeout);
  auto watch = m_watchdog.watch(*client, deadline);
  httplib::Result result = client->send(req);
  const bool stopped = watch.end();
  const auto now = Clock::now();
  {
    std::lock_guard<std::mutex> lock(m_stats_mutex);
    (is_read(method) ? m_stats.reads : m_stats.writes) += 1;
    const int status = result ? result->status : 0;
    m_stats.by_status[{method, status >= 100 && status < 600 ? std::to_string(status / 100) + "xx" : "none"}] += 1;
    m_stats.bytes_sent += req.body.size() + path.size();
    m_stats.bytes_received += exchange.body.size();
    m_stats.waiting += std::chrono::duration_cast<std::chrono::microseconds>(now - exchange.started);
  }
  // A connection abandoned half-way (or stopped) may hold the rest of an
  // answer: it is not put back in the pool.
  if (exchange.too_large) {
    return tl::unexpected(failure_of(
        request, model::Error::Kind::invalid,
        "the answer from " + host + " exceeded " + size_text(limits.max_bytes) + " (" + limits.size_setting + ")" +
            (exchange.announced ? "; it announced " + std::to_string(exchange.announced) + " bytes" : "")));
  }
  if (stopped) {
    const std::string waited = pass_bound ? "before the pass deadline (passTimeoutMinutes)"
                                          : "within " + duration_text(limits.deadline) + " (" + limits.time_setting + ")";
    return tl::unexpected(failure_of(request, model::Error::Kind::transient,
                                     std::string(exchange.answered ? "no complete answer" : "no answer") + " from " +
                                         host + " " + waited,
                                     true));
  }
  if (!result) {
    if (result.error() == httplib::Error::Read && silent_for(exchange, now, read_timeout)) {
      const std::string setting = filter ? limits.time_setting : "readTimeoutSeconds";
      return tl::unexpected(failure_of(request, model::Error::Kind::transient,
                                       (exchange.answered ? "the answer from " + host + " stopped: nothing came for "
                                                          : "no answer from " + host + " within ") +
                                           duration_text(read_timeout) + " (" + setting + ")",
                                       true));
    }
    return tl::unexpected(transport_failure(request, host, *client, result.error(), m_options, m_options.ca_file));
  }
  release(std::move(client));
  const httplib::Response& response = *result;
  if (response.status < 200 || response.status >= 300) {
    return tl::unexpected(classify_failure(method, path, response.status, exchange.body,
                                           response.get_header_value("Retry-After")));
  }
  if (digest_out != nullptr || (method == "GET" && filter == nullptr && recording())) {
    Sha256 digest;
    digest.update(exchange.body);
    std::string hex = digest.hex();
    if (digest_out != nullptr) {
      *digest_out = std::move(hex);
      return nlohmann::json();
    }
    std::lock_guard<std::mutex> lock(m_stats_mutex);
    m_recorded.push_back({path, std::move(hex)});
  }
  // Empty is not `{}`: whether an answer may be empty is the caller's to say.
  if (exchange.body.empty()) {
    return nlohmann::json();
  }
  nlohmann::json parsed = nlohmann::json::parse(exchange.body, filter ? *filter : nullptr, false);
  if (parsed.is_discarded()) {
    MatrixFailure failure = failure_of(request, model::Error::Kind::transient,
                                       "the homeserver answered with invalid JSON");
    failure.status = response.status;
    return tl::unexpected(failure);
  }
  return parsed;
}

template <typename SendOnce>
MatrixClient::Response MatrixClient::read_with_retries(const SendOnce& send_once) {
  // Seeded only when a retry needs it: reading /dev/urandom on every GET
  // was about 1% of a pass's CPU.
  std::optional<std::mt19937> random;
  auto draw = [&](std::int64_t low, std::int64_t high) {
    return std::chrono::milliseconds(std::uniform_int_distribution<std::int64_t>(low, std::max(low, high))(
        random ? *random : random.emplace(std::random_device{}())));
  };
  for (int counted = 0;;) {
    Response response = send_once();
    if (response || !response.error().error.retryable() || response.error().timed_out) {
      return response;
    }
    const model::Error& error = response.error().error;
    const bool limited = error.kind == model::Error::Kind::rate_limited;
    // Under a deadline a rate limit slows the pass down instead of failing it.
    if ((!limited || !m_options.deadline) && ++counted >= m_options.read_attempts) {
      return response;
    }
    std::chrono::milliseconds delay;
    if (limited && error.retry_after) {
      // Never sooner than the server said; jitter so that parallel readers
      // limited together do not come back together.
      auto asked = std::min(std::max(*error.retry_after, std::chrono::milliseconds::zero()),
                            std::chrono::milliseconds(60000));
      delay = asked + draw(0, std::max(asked, m_options.read_backoff).count() / 2);
    } else {
      // Full jitter on an exponential backoff.
      auto cap = m_options.read_backoff * (1 << std::clamp(counted - 1, 0, 10));
      delay = draw(0, std::max<std::int64_t>(1, cap.count()));
    }
    if (m_options.deadline && Clock::now() + delay >= *m_options.deadline) {
      return response;
    }
    {
      std::lock_guard<std::mutex> lock(m_stats_mutex);
      m_stats.retries += 1;
    }
    std::unique_lock<std::mutex> lock(m_cancel_mutex);
    m_cancelled_changed.wait_for(lock, delay, [&] { return m_cancelled; });
  }
}

MatrixClient::Response MatrixClient::get(const std::string& path) { return get(path, nullptr); }

MatrixClient::Response MatrixClient::get(const std::string& path, const nlohmann::json::parser_callback_t& filter) {
  return read_with_retries([&] { return send("GET", path, nullptr, filter ? &filter : nullptr); });
}

tl::expected<std::string, MatrixFailure> MatrixClient::get_digest(const std::string& path) {
  std::string digest;
  auto answer = read_with_retries([&] { return send("GET", path, nullptr, nullptr, &digest); });
  if (!answer) {
    return tl::unexpected(answer.error());
  }
  return digest;
}

bool MatrixClient::recording() const {
  std::lock_guard<std::mutex> lock(m_stats_mutex);
  return m_recording;
}

void MatrixClient::record_reads() {
  std::lock_guard<std::mutex> lock(m_stats_mutex);
  m_recording = true;
  m_recorded.clear();
}

std::vector<RecordedRead> MatrixClient::take_recorded_reads() {
  std::lock_guard<std::mutex> lock(m_stats_mutex);
  m_recording = false;
  return std::exchange(m_recorded, {});
}

void MatrixClient::cancel() {
  {
    std::lock_guard<std::mutex> lock(m_cancel_mutex);
    m_cancelled = true;
  }
  m_cancelled_changed.notify_all();
  m_watchdog.cancel_all();
}

MatrixClient::Response MatrixClient::put(const std::string& path, const nlohmann::json& body) {
  return send("PUT", path, &body);
}

MatrixClient::Response MatrixClient::post(const std::string& path, const nlohmann::json& body) {
  return send("POST", path, &body);
}

MatrixClient::Response MatrixClient::del(const std::string& path, const nlohmann::json& body) {
  return send("DELETE", path, &body);
}

void MatrixClient::absorb(const ClientStats& other) {
  std::lock_guard<std::mutex> lock(m_stats_mutex);
  m_stats.reads += other.reads;
  m_stats.writes += other.writes;
  m_stats.bytes_sent += other.bytes_sent;
  m_stats.bytes_received += other.bytes_received;
  m_stats.retries += other.retries;
  m_stats.waiting += other.waiting;
  for (const auto& [key, count] : other.by_status) {
    m_stats.by_status[key] += count;
  }
}

ClientStats MatrixClient::stats() const {
  std::lock_guard<std::mutex> lock(m_stats_mutex);
  return m_stats;
}

}  // namespace adapters
