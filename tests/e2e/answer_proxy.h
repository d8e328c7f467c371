#pragma once
// A proxy on 127.0.0.1 in front of a homeserver (mxsim) that passes every
// request through and lets a test rewrite the answers: what a broken
// homeserver, or a proxy in front of a real one, would send instead of
// what the homeserver said. It records the target of every request.

#include <httplib.h>

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace e2e {

/// An answer as the proxy passes it on.
struct ProxiedAnswer {
  int status = 0;
  std::string body;
};

class AnswerProxy {
 public:
  /// Given the request's method and target (path and query, as sent) and
  /// the homeserver's answer, the answer to send instead; nullopt passes
  /// it on unchanged.
  using Rewrite =
      std::function<std::optional<ProxiedAnswer>(const std::string& method, const std::string& target,
                                                 const ProxiedAnswer& answer)>;

  explicit AnswerProxy(std::string upstream) : m_upstream(std::move(upstream)) {
    auto handler = [this](const httplib::Request& req, httplib::Response& res) { forward(req, res); };
    m_server.Get(".*", handler);
    m_server.Put(".*", handler);
    m_server.Post(".*", handler);
    m_server.Delete(".*", handler);
    m_port = m_server.bind_to_any_port("127.0.0.1");
    m_thread = std::thread([this] { m_server.listen_after_bind(); });
    while (!m_server.is_running()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  ~AnswerProxy() {
    m_server.stop();
    m_thread.join();
  }
  AnswerProxy(const AnswerProxy&) = delete;
  AnswerProxy& operator=(const AnswerProxy&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }

  /// Rewrites answers from now on (an empty function: none).
  void rewrite(Rewrite rewrite) {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_rewrite = std::move(rewrite);
  }

  /// "METHOD target" of every request since the last clear().
  std::vector<std::string> calls() {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_calls;
  }
  void clear() {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_calls.clear();
  }

 private:
  void forward(const httplib::Request& req, httplib::Response& res) {
    Rewrite rewrite;
    {
      std::lock_guard<std::mutex> lock(m_mutex);
      m_calls.push_back(req.method + " " + req.target);
      rewrite = m_rewrite;
    }
    httplib::Client client(m_upstream);
    client.set_read_timeout(60, 0);
    httplib::Headers headers;
    if (req.has_header("Authorization")) {
      headers.emplace("Authorization", req.get_header_value("Authorization"));
    }
    httplib::Result result = [&] {
      const std::string type = "application/json";
      if (req.method == "GET") {
        return client.Get(req.target, headers);
      }
      if (req.method == "PUT") {
        return client.Put(req.target, headers, req.body, type);
      }
      if (req.method == "POST") {
        return client.Post(req.target, headers, req.body, type);
      }
      return client.Delete(req.target, headers, req.body, type);
    }();
    ProxiedAnswer answer{502, ""};
    if (result) {
      answer = {result->status, result->body};
    }
    if (rewrite) {
      if (auto replaced = rewrite(req.method, req.target, answer)) {
        answer = *replaced;
      }
    }
    res.status = answer.status;
    res.set_content(answer.body, "application/json");
  }

  std::string m_upstream;
  httplib::Server m_server;
  std::thread m_thread;
  int m_port = 0;
  std::mutex m_mutex;
  Rewrite m_rewrite;
  std::vector<std::string> m_calls;
};

}  // namespace e2e
