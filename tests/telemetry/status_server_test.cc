// The status server over real loopback HTTP: every route and status code
// through an HTTP client, then the hostile clients through raw sockets —
// heads too large, clients that stall, more connections than the cap — and
// the lifecycle (address in use, a prompt stop with a client connected).

#include "controller/telemetry/metrics_registry.h"
#include "controller/telemetry/status_server.h"
#include "tests/telemetry/raw_client.h"

#include <catch2/catch.hpp>
#include <httplib.h>

#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace status_server_test {

namespace {

using namespace controller::telemetry;
using telemetry_testing::exchange;
using telemetry_testing::k_patience;
using telemetry_testing::RawClient;

// A started server on 127.0.0.1 with any free port.
std::unique_ptr<StatusServer> started(StatusServerOptions options) {
  auto server = std::make_unique<StatusServer>(std::move(options));
  const auto result = server->start();
  INFO((result ? std::string() : result.error().message));
  REQUIRE(result.has_value());
  REQUIRE(server->port() != 0);
  return server;
}

std::unique_ptr<httplib::Client> client_of(const StatusServer& server) {
  auto client = std::make_unique<httplib::Client>("127.0.0.1", server.port());
  client->set_connection_timeout(k_patience);
  client->set_read_timeout(k_patience);
  return client;
}

// The status of GET `path`, -1 when the request failed.
int status_of(const StatusServer& server, const std::string& path) {
  const auto response = client_of(server)->Get(path.c_str());
  return response ? response->status : -1;
}

// Polls GET /healthz until it answers 200, within k_patience.
bool serves_again(const StatusServer& server) {
  const auto give_up = std::chrono::steady_clock::now() + k_patience;
  while (std::chrono::steady_clock::now() < give_up) {
    if (status_of(server, "/healthz") == 200) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

// Readiness the test flips while the server runs on its own thread.
class Readiness {
 public:
  std::optional<std::string> reason() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_reason;
  }
  void set(std::optional<std::string> reason) {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_reason = std::move(reason);
  }

 private:
  mutable std::mutex m_mutex;
  std::optional<std::string> m_reason;
};

}  // namespace

TEST_CASE("status server: /metrics, /healthz and /readyz answer over HTTP", "[server]") {
  MetricsRegistry registry;
  registry.declare_counter("mxctl_passes_total", "Passes run.");
  registry.add("mxctl_passes_total", {{"outcome", "ok"}}, 2);
  Readiness readiness;
  readiness.set("waiting for the first pass");
  StatusServerOptions options;
  options.sources.metrics = [&registry] { return registry.render(); };
  options.sources.readiness = [&readiness] { return readiness.reason(); };
  const auto server = started(std::move(options));
  const auto client = client_of(*server);

  auto response = client->Get("/metrics");
  REQUIRE(response);
  CHECK(response->status == 200);
  CHECK(response->get_header_value("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(response->get_header_value("Connection") == "close");
  CHECK(response->body == registry.render());
  registry.add("mxctl_passes_total", {{"outcome", "ok"}});
  response = client->Get("/metrics?debug=1");
  REQUIRE(response);
  CHECK(response->body.find("mxctl_passes_total{outcome=\"ok\"} 3\n") != std::string::npos);

  response = client->Get("/healthz");
  REQUIRE(response);
  CHECK(response->status == 200);
  CHECK(response->body == "ok\n");

  SECTION("readyz follows the callback, both ways") {
    response = client->Get("/readyz");
    REQUIRE(response);
    CHECK(response->status == 503);
    CHECK(response->body == "waiting for the first pass\n");
    readiness.set(std::nullopt);
    response = client->Get("/readyz");
    REQUIRE(response);
    CHECK(response->status == 200);
    CHECK(response->body == "ready\n");
    readiness.set("homeserver unreachable");
    response = client->Get("/readyz?x");
    REQUIRE(response);
    CHECK(response->status == 503);
    CHECK(response->body == "homeserver unreachable\n");
  }
  SECTION("unknown paths are 404, other methods 405 with Allow") {
    response = client->Get("/nope");
    REQUIRE(response);
    CHECK(response->status == 404);
    response = client->Post("/metrics", "x", "text/plain");
    REQUIRE(response);
    CHECK(response->status == 405);
    CHECK(response->get_header_value("Allow") == "GET, HEAD");
    response = client->Delete("/healthz");
    REQUIRE(response);
    CHECK(response->status == 405);
  }
}

TEST_CASE("status server: HEAD has the status and headers of GET and no body", "[server]") {
  StatusServerOptions options;
  const std::string body = "# HELP m M.\n# TYPE m gauge\nm 1\n";
  options.sources.metrics = [body] { return body; };
  options.sources.readiness = [] { return std::optional<std::string>("not yet"); };
  const auto server = started(std::move(options));

  auto answer = exchange(server->port(), "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(answer.closed);
  CHECK(answer.bytes ==
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
        "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n");
  answer = exchange(server->port(), "HEAD /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(answer.bytes ==
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Length: 8\r\nConnection: close\r\n\r\n");
  answer = exchange(server->port(), "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(answer.bytes.ends_with("\r\n\r\nnot yet\n"));
}

TEST_CASE("status server: malformed requests get a 400 and the connection closes", "[server]") {
  using namespace std::string_view_literals;
  const auto server = started(StatusServerOptions{});
  for (const std::string_view bad : {"GARBAGE\r\n\r\n"sv, "GET /healthz HTTP/2.0\r\n\r\n"sv, "GET healthz HTTP/1.1\r\n\r\n"sv,
                                     "GET /healthz HTTP/1.1\r\nno colon\r\n\r\n"sv,
                                     "\x16\x03\x01\x02\x00\x01\x00\n\n"sv /* a TLS hello's first bytes */}) {
    INFO(std::string(bad));
    const auto answer = exchange(server->port(), bad);
    CHECK(answer.closed);
    CHECK(answer.bytes.starts_with("HTTP/1.1 400 Bad Request\r\n"));
  }
  // Still serving, and lenient where RFC 9112 allows: HTTP/1.0, bare LF.
  CHECK(exchange(server->port(), "GET /healthz HTTP/1.0\r\n\r\n").bytes.starts_with("HTTP/1.1 200 OK\r\n"));
  CHECK(exchange(server->port(), "GET /healthz HTTP/1.1\n\n").bytes.starts_with("HTTP/1.1 200 OK\r\n"));
}

TEST_CASE("status server: a head over the limit gets a 431 and the connection closes", "[server]") {
  StatusServerOptions options;
  options.max_request_head = 1024;
  const auto server = started(std::move(options));

  SECTION("a head that never ends") {
    RawClient client(server->port());
    client.send("GET /metrics HTTP/1.1\r\nX-Big: ");
    // Keeps sending past the limit: the server answers, then reads and drops
    // the rest, so that its close is orderly and not a reset.
    client.send(std::string(64 * 1024, 'a'));
    const auto answer = client.read_until_closed();
    CHECK(answer.closed);
    CHECK_FALSE(answer.reset);
    CHECK(answer.bytes.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
  }
  SECTION("a complete head just over the limit") {
    const std::string head = "GET /metrics HTTP/1.1\r\nX-Big: " + std::string(1000, 'a') + "\r\n\r\n";
    const auto answer = exchange(server->port(), head);
    CHECK(answer.closed);
    CHECK(answer.bytes.starts_with("HTTP/1.1 431 "));
  }
  SECTION("a head at the limit is served") {
    const std::string start = "GET /healthz HTTP/1.1\r\nX-Big: ";
    const std::string head = start + std::string(1024 - start.size() - 4, 'a') + "\r\n\r\n";
    REQUIRE(head.size() == 1024);
    CHECK(exchange(server->port(), head).bytes.starts_with("HTTP/1.1 200 OK\r\n"));
  }
  CHECK(status_of(*server, "/healthz") == 200);
}

TEST_CASE("status server: a stalled client does not hold up the others", "[server]") {
  StatusServerOptions options;
  options.deadline = std::chrono::minutes(10);  // nothing here may wait for it
  const auto server = started(std::move(options));
  RawClient stalled(server->port());
  stalled.send("GET /metr");
  RawClient idle(server->port());
  CHECK(status_of(*server, "/healthz") == 200);
  CHECK(status_of(*server, "/metrics") == 200);
  CHECK_FALSE(stalled.closed_now());
  CHECK_FALSE(idle.closed_now());
}

TEST_CASE("status server: a client that has not finished by the deadline is dropped", "[server]") {
  StatusServerOptions options;
  options.deadline = std::chrono::milliseconds(200);
  const auto server = started(std::move(options));

  SECTION("half a request, then nothing") {
    RawClient stalled(server->port());
    stalled.send("GET /metrics HTTP/1.1\r\nHo");
    const auto answer = stalled.read_until_closed();
    CHECK(answer.closed);
    CHECK(answer.bytes.empty());
  }
  SECTION("a request dripped one byte at a time") {
    RawClient drip(server->port());
    const std::string request = "GET /metrics HTTP/1.1\r\nHost: x\r\n" + std::string(4096, 'X') + "\r\n\r\n";
    bool dropped = false;
    const auto give_up = std::chrono::steady_clock::now() + k_patience;
    for (std::size_t i = 0; i < request.size() && !dropped && std::chrono::steady_clock::now() < give_up; ++i) {
      // Pacing, not an assertion: each byte well inside any per-read timeout.
      dropped = !drip.send(request.substr(i, 1)) || drip.closed_now();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    CHECK((dropped || drip.read_until_closed().closed));
  }
  SECTION("nothing sent at all") {
    RawClient idle(server->port());
    CHECK(idle.read_until_closed().closed);
  }
  CHECK(status_of(*server, "/healthz") == 200);
}

TEST_CASE("status server: connections beyond the cap get a 503, it serves again when they close", "[server]") {
  StatusServerOptions options;
  options.max_connections = 3;
  options.deadline = std::chrono::minutes(10);  // only their closing frees the slots
  const auto server = started(std::move(options));

  std::vector<std::unique_ptr<RawClient>> holders;
  for (int i = 0; i < 3; ++i) {
    holders.push_back(std::make_unique<RawClient>(server->port()));
  }
  // The listener hands connections over in the order they were made, so
  // these come after the three holders, however fast the server is.
  for (int i = 0; i < 5; ++i) {
    RawClient extra(server->port());
    const auto answer = extra.read_until_closed();
    CHECK(answer.closed);
    CHECK(answer.bytes.starts_with("HTTP/1.1 503 Service Unavailable\r\n"));
    CHECK(answer.bytes.ends_with("\r\n\r\ntoo many connections\n"));
  }
  for (auto& holder : holders) {
    CHECK_FALSE(holder->closed_now());
    holder->close();
  }
  CHECK(serves_again(*server));
}

TEST_CASE("status server: an address in use is an error, and start() is once only", "[server]") {
  const auto first = started(StatusServerOptions{});
  StatusServerOptions same;
  same.address.port = first->port();
  StatusServer second(same);
  const auto result = second.start();
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().kind == model::Error::Kind::conflict);
  CHECK(result.error().message ==
        "status server: cannot listen on 127.0.0.1:" + std::to_string(first->port()) + ": address already in use");
  CHECK(second.port() == 0);

  const auto again = first->start();
  REQUIRE_FALSE(again.has_value());
  CHECK(again.error().kind == model::Error::Kind::conflict);
  CHECK(status_of(*first, "/healthz") == 200);
}

TEST_CASE("status server: stop() returns promptly with a stalled client connected", "[server]") {
  StatusServerOptions options;
  options.deadline = std::chrono::minutes(10);
  auto server = started(std::move(options));
  RawClient stalled(server->port());
  stalled.send("GET /metrics HTTP/1.1\r\n");
  // Served after the stalled one connected, so the server has accepted it.
  REQUIRE(status_of(*server, "/healthz") == 200);
  const auto port = server->port();

  const auto before = std::chrono::steady_clock::now();
  SECTION("stop()") {
    server->stop();
    server->stop();  // idempotent
  }
  SECTION("the destructor") {
    server.reset();
  }
  // Far below the ten-minute deadline: stop() did not wait for the client.
  CHECK(std::chrono::steady_clock::now() - before < k_patience);
  CHECK(stalled.read_until_closed().closed);
  CHECK_THROWS(RawClient(port));  // no longer listening
}

TEST_CASE("status server: listens on an IPv6 address", "[server]") {
  StatusServerOptions options;
  options.address = ListenAddress{"::1", 0};
  StatusServer server(std::move(options));
  const auto result = server.start();
  if (!result && result.error().kind == model::Error::Kind::invalid) {
    WARN("no IPv6 loopback on this host: " << result.error().message);
    return;
  }
  REQUIRE(result.has_value());
  httplib::Client client("::1", server.port());
  client.set_connection_timeout(k_patience);
  client.set_read_timeout(k_patience);
  const auto response = client.Get("/healthz");
  REQUIRE(response);
  CHECK(response->status == 200);
}

}  // namespace status_server_test
