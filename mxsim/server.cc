#include "mxsim/server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <chrono>
#include <stdexcept>

#include "mxsim/homeserver.h"

namespace {

// cpp-httplib listens with a backlog of 5 (CPPHTTPLIB_LISTEN_BACKLOG, fixed
// when Debian built the library). A client opening 8 connections at once
// then now and again has a SYN dropped and waits 1 s for the retransmit
// (seen as a 1 s stall in about one cold apply in five of the bench).
// Synapse (Twisted) listens with 50, nginx with 511; listening again on the
// bound socket with the system's maximum gives mxsim a real server's queue.
class WideBacklogServer : public httplib::Server {
 public:
  void widen_backlog() { ::listen(svr_sock_, SOMAXCONN); }
};

}  // namespace

namespace mxsim {

namespace {

// Long-polling /sync requests each hold a worker, so allow plenty.
constexpr size_t k_worker_threads = 32;

HomeserverSettings settings_for(const ServerOptions& options) {
  HomeserverSettings settings;
  settings.server_name = options.server_name;
  return settings;
}

void serve(Homeserver& homeserver, const httplib::Request& http_request, httplib::Response& http_response) {
  std::map<std::string, std::string> headers;
  for (const auto& [name, value] : http_request.headers) {
    headers[name] = value;
  }
  ApiRequest request = make_request(http_request.method, http_request.target, std::move(headers), http_request.body);
  ApiResponse response = homeserver.handle(request);
  http_response.status = response.status;
  for (const auto& [name, value] : response.headers) {
    http_response.set_header(name, value);
  }
  if (response.drop_connection) {
    // Announce a body and then fail to produce it: httplib closes the
    // connection mid-response, which clients see as a broken connection.
    http_response.set_content_provider(
        64, "application/json", [](size_t, size_t, httplib::DataSink&) { return false; });
    return;
  }
  http_response.set_content(response.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                            "application/json");
}

}  // namespace

Server::Server(ServerOptions options)
    : m_options(std::move(options)), m_homeserver(std::make_unique<Homeserver>(settings_for(m_options))) {}

Server::~Server() { stop(); }

void Server::start() {
  if (m_http) {
    return;
  }
  m_http = std::make_unique<WideBacklogServer>();
  m_http->new_task_queue = [] { return new httplib::ThreadPool(k_worker_threads); };
  // Without TCP_NODELAY, headers and body leave in two segments and Nagle
  // plus delayed ACKs add ~40 ms to every keep-alive request.
  m_http->set_tcp_nodelay(true);
  m_http->set_keep_alive_max_count(100000);
  // Short, because stop() waits for idle keep-alive connections to time out.
  m_http->set_keep_alive_timeout(2);
  m_http->set_payload_max_length(64 * 1024 * 1024);
  auto handler = [this](const httplib::Request& request, httplib::Response& response) {
    serve(*m_homeserver, request, response);
  };
  for (const char* method : {"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
    std::string name = method;
    if (name == "GET") {
      m_http->Get(".*", handler);
    } else if (name == "POST") {
      m_http->Post(".*", handler);
    } else if (name == "PUT") {
      m_http->Put(".*", handler);
    } else if (name == "DELETE") {
      m_http->Delete(".*", handler);
    } else if (name == "PATCH") {
      m_http->Patch(".*", handler);
    } else {
      m_http->Options(".*", handler);
    }
  }
  if (m_options.port == 0) {
    m_port = m_http->bind_to_any_port(m_options.host.c_str());
  } else {
    m_port = m_http->bind_to_port(m_options.host.c_str(), m_options.port) ? m_options.port : -1;
  }
  if (m_port <= 0) {
    m_http.reset();
    m_port = 0;
    throw std::runtime_error("mxsim: cannot listen on " + m_options.host + ":" + std::to_string(m_options.port));
  }
  static_cast<WideBacklogServer&>(*m_http).widen_backlog();
  m_homeserver->set_stopping(false);
  m_thread = std::thread([this] { m_http->listen_after_bind(); });
  while (!m_http->is_running()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void Server::stop() {
  if (!m_http) {
    return;
  }
  m_homeserver->set_stopping(true);
  m_http->stop();
  if (m_thread.joinable()) {
    m_thread.join();
  }
  m_http.reset();
}

int Server::port() const { return m_port; }

std::string Server::base_url() const { return "http://" + m_options.host + ":" + std::to_string(m_port); }

Homeserver& Server::homeserver() { return *m_homeserver; }

}  // namespace mxsim
