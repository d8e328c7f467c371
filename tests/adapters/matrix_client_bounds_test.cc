// MatrixClient against a scripted server on loopback that does what a broken
// or hostile homeserver (or a proxy in front of one) does: answers larger
// than any Matrix answer should be, bytes dripping in forever, no answer at
// all, connections refused or dropped. Each is a bounded failure whose
// message names the request, the host and the real cause (with the setting
// that bounds it), and none blames the access token.

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <string>

#include "adapters/homeserver/matrix_client.h"
#include "tests/support/scripted_server.h"

namespace matrix_client_bounds_test {

namespace {

using std::chrono::milliseconds;
using testing_support::ScriptedReply;
using testing_support::ScriptedRequest;
using testing_support::ScriptedServer;

std::string host_of(const ScriptedServer& server) { return "127.0.0.1:" + std::to_string(server.port()); }

// Small bounds, so the tests neither wait long nor move much data.
adapters::ClientOptions bounded() {
  adapters::ClientOptions options;
  options.read_attempts = 1;
  options.read_timeout = milliseconds(20'000);
  options.limits.max_bytes = 1 << 20;
  options.limits.deadline = milliseconds(20'000);
  options.large_limits.max_bytes = 2 << 20;
  options.large_limits.deadline = milliseconds(20'000);
  return options;
}

std::string message_of(const adapters::MatrixClient::Response& response) {
  REQUIRE_FALSE(response.has_value());
  return response.error().error.message;
}

// A /sync-like read: parsed through a filter, so bounded by large_limits.
adapters::MatrixClient::Response filtered_get(adapters::MatrixClient& client, const std::string& path) {
  return client.get(path, [](int, nlohmann::json::parse_event_t, nlohmann::json&) { return true; });
}

}  // namespace

TEST_CASE("matrix client: an answer larger than the bound is an error, not read whole", "[client][bounds]") {
  SECTION("announced by Content-Length: refused before the body is read") {
    ScriptedServer server([](const ScriptedRequest&) {
      // 200 MB announced, then nothing: a client that waits for it hangs.
      return ScriptedReply::head(200, "Content-Type: application/json\r\nContent-Length: 209715200\r\n").then_hang();
    });
    adapters::MatrixClient client(server.url(), "tok", bounded());
    CHECK(message_of(client.get("/_synapse/admin/v2/users")) ==
          "GET /_synapse/admin/v2/users: the answer from " + host_of(server) +
              " exceeded 1 MB (maxAnswerMegabytes); it announced 209715200 bytes");
    CHECK(client.stats().bytes_received == 0);
  }
  SECTION("streamed without a length: cut off at the bound") {
    ScriptedServer server([](const ScriptedRequest&) {
      return ScriptedReply::head(200, "Content-Type: application/json\r\nConnection: close\r\n")
          .send("[")
          .send_repeated(8 << 20, ' ')
          .send("]")
          .close();
    });
    adapters::MatrixClient client(server.url(), "tok", bounded());
    auto response = client.get("/x");
    CHECK(message_of(response) == "GET /x: the answer from " + host_of(server) + " exceeded 1 MB (maxAnswerMegabytes)");
    CHECK(response.error().error.kind == model::Error::Kind::invalid);
    CHECK(client.stats().bytes_received <= (1u << 20));
  }
  SECTION("chunked: cut off at the bound") {
    ScriptedServer server([](const ScriptedRequest&) {
      ScriptedReply reply = ScriptedReply::head(200, "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n");
      for (int i = 0; i < 40; ++i) {
        reply.send("10000\r\n").send_repeated(0x10000, ' ').send("\r\n");
      }
      return reply.send("0\r\n\r\n");
    });
    adapters::MatrixClient client(server.url(), "tok", bounded());
    CHECK(message_of(client.get("/x")) == "GET /x: the answer from " + host_of(server) +
                                              " exceeded 1 MB (maxAnswerMegabytes)");
  }
  SECTION("an error answer is bounded too") {
    ScriptedServer server([](const ScriptedRequest&) {
      return ScriptedReply::head(502, "Content-Type: text/html\r\nContent-Length: 5000000\r\n")
          .send_repeated(5000000, 'x');
    });
    adapters::MatrixClient client(server.url(), "tok", bounded());
    CHECK(message_of(client.get("/x")) == "GET /x: the answer from " + host_of(server) +
                                              " exceeded 1 MB (maxAnswerMegabytes); it announced 5000000 bytes");
  }
  SECTION("a filtered read (/sync) has its own bound") {
    ScriptedServer server([](const ScriptedRequest&) {
      return ScriptedReply::head(200, "Content-Type: application/json\r\nConnection: close\r\n")
          .send("{\"a\":\"")
          .send_repeated(3 << 20, 'a')
          .send("\"}")
          .close();
    });
    adapters::MatrixClient client(server.url(), "tok", bounded());
    CHECK(message_of(filtered_get(client, "/sync")) ==
          "GET /sync: the answer from " + host_of(server) + " exceeded 2 MB (maxSyncAnswerMegabytes)");
    // Below its bound the same size passes where an ordinary read would not.
    adapters::ClientOptions wider = bounded();
    wider.large_limits.max_bytes = 4 << 20;
    adapters::MatrixClient roomy(server.url(), "tok", wider);
    CHECK(filtered_get(roomy, "/sync").has_value());
  }
}

TEST_CASE("matrix client: a request has a deadline however slowly the answer comes", "[client][bounds]") {
  SECTION("one byte at a time, for ever") {
    ScriptedServer server([](const ScriptedRequest&) {
      ScriptedReply reply = ScriptedReply::head(200, "Content-Type: application/json\r\nContent-Length: 100000\r\n");
      return reply.drip(std::string(100000, ' '), milliseconds(50));
    });
    adapters::ClientOptions options = bounded();
    options.read_attempts = 4;
    options.limits.deadline = milliseconds(1000);
    adapters::MatrixClient client(server.url(), "tok", options);
    auto response = client.get("/_matrix/client/v3/account/whoami");
    CHECK(message_of(response) == "GET /_matrix/client/v3/account/whoami: no complete answer from " +
                                      host_of(server) + " within 1 s (requestTimeoutSeconds)");
    CHECK(response.error().timed_out);
    CHECK(response.error().error.kind == model::Error::Kind::transient);
    // The server had its full time: the read is not repeated.
    CHECK(server.count() == 1);
  }
  SECTION("no byte at all: the read timeout") {
    ScriptedServer server([](const ScriptedRequest&) { return ScriptedReply::hang(); });
    adapters::ClientOptions options = bounded();
    options.read_timeout = milliseconds(500);
    adapters::MatrixClient client(server.url(), "tok", options);
    auto response = client.get("/_matrix/client/v3/account/whoami");
    CHECK(message_of(response) == "GET /_matrix/client/v3/account/whoami: no answer from " + host_of(server) +
                                      " within 500 ms (readTimeoutSeconds)");
    CHECK(response.error().timed_out);
  }
  SECTION("silence half-way through the answer: the read timeout too") {
    ScriptedServer server([](const ScriptedRequest&) {
      return ScriptedReply::head(200, "Content-Type: application/json\r\nContent-Length: 10\r\n").send("{").then_hang();
    });
    adapters::ClientOptions options = bounded();
    options.read_timeout = milliseconds(500);
    adapters::MatrixClient client(server.url(), "tok", options);
    CHECK(message_of(client.get("/x")) == "GET /x: the answer from " + host_of(server) +
                                              " stopped: nothing came for 500 ms (readTimeoutSeconds)");
  }
  SECTION("the pass deadline bounds every request") {
    ScriptedServer server([](const ScriptedRequest&) { return ScriptedReply::hang(); });
    adapters::ClientOptions options = bounded();
    options.deadline = std::chrono::steady_clock::now() + milliseconds(1500);
    adapters::MatrixClient client(server.url(), "tok", options);
    CHECK(message_of(client.get("/x")) ==
          "GET /x: no answer from " + host_of(server) + " before the pass deadline (passTimeoutMinutes)");
    // Once it has passed, nothing more is sent.
    CHECK(message_of(client.get("/y")) == "GET /y: not sent: the pass deadline (passTimeoutMinutes) has passed");
    const auto calls = server.calls();
    CHECK(std::find(calls.begin(), calls.end(), "GET /y") == calls.end());
  }
}

TEST_CASE("matrix client: transport failures say what happened, to which host", "[client][bounds]") {
  SECTION("refused") {
    int port = 0;
    {
      ScriptedServer closed([](const ScriptedRequest&) { return ScriptedReply::hang(); });
      port = closed.port();
    }
    adapters::MatrixClient client("http://127.0.0.1:" + std::to_string(port), "tok", bounded());
    auto response = client.get("/_matrix/client/versions");
    CHECK(message_of(response) == "GET /_matrix/client/versions: cannot connect to 127.0.0.1:" +
                                      std::to_string(port) + " (connection refused or failed)");
    CHECK(response.error().status == 0);
  }
  SECTION("dropped before the answer") {
    ScriptedServer server([](const ScriptedRequest&) { return ScriptedReply().close(); });
    adapters::MatrixClient client(server.url(), "tok", bounded());
    CHECK(message_of(client.get("/x")) ==
          "GET /x: connection to " + host_of(server) + " dropped while reading the answer");
  }
  SECTION("an error body of the wrong shape still gives the status") {
    ScriptedServer server([](const ScriptedRequest&) {
      return ScriptedReply::json(403, {{"errcode", 42}, {"error", {"not", "text"}}});
    });
    adapters::MatrixClient client(server.url(), "tok", bounded());
    auto response = client.get("/x");
    CHECK(message_of(response) == "GET /x: HTTP 403");
    CHECK(response.error().error.kind == model::Error::Kind::forbidden);
  }
  SECTION("an empty 200 is not an empty object: it is null, for the caller to refuse") {
    ScriptedServer server([](const ScriptedRequest&) { return ScriptedReply::text(200, ""); });
    adapters::MatrixClient client(server.url(), "tok", bounded());
    auto response = client.get("/x");
    REQUIRE(response.has_value());
    CHECK(response->is_null());
  }
}

}  // namespace matrix_client_bounds_test
