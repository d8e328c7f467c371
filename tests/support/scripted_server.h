#pragma once
// An HTTP server on 127.0.0.1 that answers byte by byte as a test scripts
// it, for what httplib::Server cannot do on purpose: answers that never
// come, that drip one byte at a time, that announce or stream more than a
// client should read, or that end the connection half-way. Each request's
// answer is a list of steps (send these bytes, pause, close, hang); a
// keep-alive connection serves requests one after the other. The destructor
// ends every connection and waits for its threads, however a script hangs.

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace testing_support {

/// One request as the server read it.
struct ScriptedRequest {
  std::string method;
  std::string target;  ///< path and query, as sent
  std::map<std::string, std::string> headers;  ///< names lower-cased
  std::string body;
};

/// What the server does with one request, step by step.
class ScriptedReply {
 public:
  /// A complete answer: `status`, Content-Type JSON, Content-Length, `body`
  /// as it is (an empty string sends an empty body).
  static ScriptedReply text(int status, const std::string& body);
  /// text() of `body` dumped.
  static ScriptedReply json(int status, const nlohmann::json& body);
  /// The status line and headers only, with `extra_headers` ("Name: value\r\n"
  /// each); the body, if any, comes from the steps added after.
  static ScriptedReply head(int status, const std::string& extra_headers);
  /// Reads the request and never answers (until the server is destroyed).
  static ScriptedReply hang();

  /// Then sends `bytes`.
  ScriptedReply& send(std::string bytes);
  /// Then sends `count` bytes of `fill`, in pieces (nothing this large is
  /// held in memory).
  ScriptedReply& send_repeated(std::uint64_t count, char fill);
  /// Then waits.
  ScriptedReply& pause(std::chrono::milliseconds duration);
  /// Then sends `bytes` one at a time, `interval` apart.
  ScriptedReply& drip(const std::string& bytes, std::chrono::milliseconds interval);
  /// Then closes the connection (no further request is read on it).
  ScriptedReply& close();
  /// Then waits until the server is destroyed.
  ScriptedReply& then_hang();

  /// One step of a reply, as the builders above make it.
  struct Step {
    enum class Kind { send, repeat, pause, close, hang } kind;
    std::string bytes;
    std::uint64_t count = 0;
    std::chrono::milliseconds duration{0};
  };
  /// The steps, in the order the server takes them.
  const std::vector<Step>& steps() const { return m_steps; }

 private:
  std::vector<Step> m_steps;
};

/// The server; see the file comment.
class ScriptedServer {
 public:
  using Script = std::function<ScriptedReply(const ScriptedRequest&)>;

  /// Listens on 127.0.0.1 (any free port) and answers every request with
  /// `script`, which runs on the connection's own thread.
  explicit ScriptedServer(Script script);
  ~ScriptedServer();
  ScriptedServer(const ScriptedServer&) = delete;
  ScriptedServer& operator=(const ScriptedServer&) = delete;

  /// "http://127.0.0.1:<port>".
  std::string url() const;
  /// The port it listens on.
  int port() const { return m_port; }
  /// "METHOD target" of every request read so far, in order.
  std::vector<std::string> calls() const;
  /// How many requests were read so far.
  std::size_t count() const;

 private:
  void accept_loop();
  void serve(int fd);
  // Runs one reply; false when the connection must end.
  bool play(int fd, const ScriptedReply& reply);
  // Waits `duration`, or until the server stops; false when it stopped.
  bool wait(std::chrono::milliseconds duration);
  bool write_all(int fd, const char* data, std::size_t size);

  Script m_script;
  int m_listen_fd = -1;
  int m_port = 0;
  std::thread m_acceptor;
  mutable std::mutex m_mutex;
  std::condition_variable m_stopping_cv;
  bool m_stopping = false;
  std::vector<int> m_connections;
  std::vector<std::thread> m_threads;
  std::vector<std::string> m_calls;
};

}  // namespace testing_support
