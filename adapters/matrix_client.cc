#include "adapters/matrix_client.h"

#include <httplib.h>

#include <random>
#include <thread>

#include "adapters/redact.h"

namespace adapters {

namespace {

bool is_read(const std::string& method) { return method == "GET"; }

std::string describe_transport_error(httplib::Error error) {
  switch (error) {
    case httplib::Error::Connection: return "connection refused or failed";
    case httplib::Error::Read: return "connection dropped while reading the answer";
    case httplib::Error::Write: return "connection dropped while sending the request";
    case httplib::Error::ConnectionTimeout: return "timed out connecting";
    default: return "request failed (" + httplib::to_string(error) + ")";
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
  std::string detail;
  nlohmann::json parsed = nlohmann::json::parse(body, nullptr, false);
  std::optional<std::chrono::milliseconds> retry_after;
  if (parsed.is_object()) {
    failure.errcode = parsed.value("errcode", "");
    detail = parsed.value("error", "");
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
  } else if (status == 429 || failure.errcode == "M_LIMIT_EXCEEDED") {
    kind = Kind::rate_limited;
  } else if (status == 401 || status == 403) {
    kind = Kind::forbidden;
  } else if (status == 404) {
    kind = Kind::not_found;
  } else if (status == 409 || failure.errcode == "M_ROOM_IN_USE" || failure.errcode == "M_USER_IN_USE") {
    kind = Kind::conflict;
  }
  std::string message = method + " " + path + ": ";
  if (status == 0) {
    message += detail;
  } else {
    message += "HTTP " + std::to_string(status);
    if (!failure.errcode.empty()) {
      message += " " + failure.errcode;
    }
    if (!detail.empty()) {
      message += ": " + detail;
    }
  }
  failure.error = model::Error{kind, redact(message, {}), kind == Kind::rate_limited ? retry_after : std::nullopt};
  return failure;
}

MatrixClient::MatrixClient(std::string base_url, std::string access_token, ClientOptions options)
    : m_base_url(std::move(base_url)), m_token(std::move(access_token)), m_options(options) {}

MatrixClient::~MatrixClient() = default;

std::unique_ptr<httplib::Client> MatrixClient::acquire() {
  {
    std::lock_guard<std::mutex> lock(m_pool_mutex);
    if (!m_pool.empty()) {
      auto client = std::move(m_pool.back());
      m_pool.pop_back();
      return client;
    }
  }
  auto client = std::make_unique<httplib::Client>(m_base_url);
  client->set_connection_timeout(std::chrono::duration_cast<std::chrono::seconds>(m_options.connect_timeout).count(),
                                 static_cast<time_t>((m_options.connect_timeout.count() % 1000) * 1000));
  client->set_read_timeout(std::chrono::duration_cast<std::chrono::seconds>(m_options.read_timeout).count(),
                           static_cast<time_t>((m_options.read_timeout.count() % 1000) * 1000));
  client->set_write_timeout(std::chrono::duration_cast<std::chrono::seconds>(m_options.read_timeout).count(), 0);
  client->set_keep_alive(true);
  // httplib writes a request's headers and body separately; with Nagle's
  // algorithm the body waits for the server's delayed ACK of the headers (up
  // to 40 ms on Linux), which capped a pass at ~200 writes/s with 8 in
  // flight whatever the server's speed (measured by the bench, issue #7).
  client->set_tcp_nodelay(true);
  if (!m_token.empty()) {
    client->set_bearer_token_auth(m_token);
  }
  return client;
}

void MatrixClient::release(std::unique_ptr<httplib::Client> client) {
  std::lock_guard<std::mutex> lock(m_pool_mutex);
  m_pool.push_back(std::move(client));
}

MatrixClient::Response MatrixClient::send(const std::string& method, const std::string& path,
                                          const nlohmann::json* body, const nlohmann::json::parser_callback_t* filter) {
  if (m_options.read_only && !is_read(method)) {
    MatrixFailure failure;
    failure.error = model::make_error(model::Error::Kind::forbidden,
                                      method + " " + redact(path, {}) + ": not sent: this pass only reads");
    return tl::unexpected(failure);
  }
  const std::string payload = body ? body->dump() : std::string();
  auto client = acquire();
  auto started = std::chrono::steady_clock::now();
  httplib::Result result = [&] {
    if (method == "GET") {
      return client->Get(path);
    }
    if (method == "PUT") {
      return client->Put(path, payload, "application/json");
    }
    if (method == "POST") {
      return client->Post(path, payload, "application/json");
    }
    return client->Delete(path, payload, "application/json");
  }();
  auto waited = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
  {
    std::lock_guard<std::mutex> lock(m_stats_mutex);
    (is_read(method) ? m_stats.reads : m_stats.writes) += 1;
    m_stats.bytes_sent += payload.size() + path.size();
    m_stats.bytes_received += result ? result->body.size() : 0;
    m_stats.waiting += waited;
  }
  if (!result) {
    // A failed connection may be half-open: do not put it back in the pool.
    MatrixFailure failure = classify_failure(method, path, 0, "", "");
    failure.error.message += describe_transport_error(result.error());
    return tl::unexpected(failure);
  }
  release(std::move(client));
  const httplib::Response& response = *result;
  if (response.status >= 200 && response.status < 300) {
    if (response.body.empty()) {
      return nlohmann::json::object();
    }
    nlohmann::json parsed = nlohmann::json::parse(response.body, filter ? *filter : nullptr, false);
    if (parsed.is_discarded()) {
      MatrixFailure failure;
      failure.status = response.status;
      failure.error = model::make_error(model::Error::Kind::transient,
                                        method + " " + redact(path, {}) + ": the homeserver answered with invalid JSON");
      return tl::unexpected(failure);
    }
    return parsed;
  }
  return tl::unexpected(classify_failure(method, path, response.status, response.body,
                                         response.get_header_value("Retry-After")));
}

MatrixClient::Response MatrixClient::get(const std::string& path) { return get(path, nullptr); }

MatrixClient::Response MatrixClient::get(const std::string& path, const nlohmann::json::parser_callback_t& filter) {
  // Seeded only when a retry needs it: reading /dev/urandom on every GET
  // was about 1% of a pass's CPU.
  std::optional<std::mt19937> random;
  for (int attempt = 1;; ++attempt) {
    Response response = send("GET", path, nullptr, filter ? &filter : nullptr);
    if (response || !response.error().error.retryable() || attempt >= m_options.read_attempts) {
      return response;
    }
    // Full jitter on an exponential backoff; a server-given delay wins.
    auto cap = m_options.read_backoff * (1 << (attempt - 1));
    auto delay = std::chrono::milliseconds(
        std::uniform_int_distribution<std::int64_t>(0, std::max<std::int64_t>(1, cap.count()))(
            random ? *random : random.emplace(std::random_device{}())));
    if (response.error().error.retry_after) {
      delay = std::min(*response.error().error.retry_after, std::chrono::milliseconds(60000));
    }
    {
      std::lock_guard<std::mutex> lock(m_stats_mutex);
      m_stats.retries += 1;
    }
    std::this_thread::sleep_for(delay);
  }
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
}

ClientStats MatrixClient::stats() const {
  std::lock_guard<std::mutex> lock(m_stats_mutex);
  return m_stats;
}

}  // namespace adapters
