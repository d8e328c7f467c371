// The status server's HTTP reading and writing, apart from sockets: where a
// request head ends, which heads are well-formed, what a response looks like
// on the wire, and what each path answers.

#include "controller/telemetry/http_wire.h"
#include "controller/telemetry/status_routes.h"

#include <catch2/catch.hpp>

#include <stdexcept>

namespace http_wire_test {

namespace {

using namespace controller::telemetry;

// The header `name` of `response`, empty when absent.
std::string header(const HttpResponse& response, const std::string& name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) {
      return value;
    }
  }
  return {};
}

}  // namespace

TEST_CASE("http wire: a head ends at the first empty line, CRLF or LF", "[http]") {
  CHECK(find_head_end("GET / HTTP/1.1\r\nHost: x\r\n\r\nbody") == std::optional<std::size_t>(27));
  CHECK(find_head_end("GET / HTTP/1.1\n\n") == std::optional<std::size_t>(16));
  CHECK(find_head_end("GET / HTTP/1.1\r\nHost: x\r\n") == std::nullopt);
  CHECK(find_head_end("GET / HTTP/1.1\r\nHost: x\r\n\r") == std::nullopt);
  CHECK(find_head_end("") == std::nullopt);
}

TEST_CASE("http wire: well-formed heads give the method and the path without query", "[http]") {
  auto head = parse_request_head("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9464\r\nAccept: */*\r\n\r\n");
  REQUIRE(head);
  CHECK(head->method == "GET");
  CHECK(head->path == "/metrics");
  head = parse_request_head("HEAD /readyz?verbose=1&x HTTP/1.0\n\n");
  REQUIRE(head);
  CHECK(head->method == "HEAD");
  CHECK(head->path == "/readyz");
  head = parse_request_head("BREW /pot HTTP/1.1\r\nX-Empty:\r\nX-Tab:\ta\tb\r\nX-Utf8: é\r\n\r\n");
  REQUIRE(head);
  CHECK(head->method == "BREW");
}

TEST_CASE("http wire: malformed heads are refused", "[http]") {
  for (const char* bad : {
           "\r\n",
           "GARBAGE\r\n\r\n",
           "GET /metrics\r\n\r\n",
           "GET  /metrics HTTP/1.1\r\n\r\n",
           "GET /metrics  HTTP/1.1\r\n\r\n",
           "GET /met rics HTTP/1.1\r\n\r\n",
           "GET metrics HTTP/1.1\r\n\r\n",
           "GET http://host/metrics HTTP/1.1\r\n\r\n",
           "GET * HTTP/1.1\r\n\r\n",
           "GET /metrics HTTP/2.0\r\n\r\n",
           "GET /metrics http/1.1\r\n\r\n",
           "G(ET /metrics HTTP/1.1\r\n\r\n",
           "GET /m\xc3\xa9trics HTTP/1.1\r\n\r\n",
           "GET /metrics\r HTTP/1.1\r\n\r\n",
           "GET /metrics HTTP/1.1\r\nno colon here\r\n\r\n",
           "GET /metrics HTTP/1.1\r\nHost : x\r\n\r\n",
           "GET /metrics HTTP/1.1\r\n: x\r\n\r\n",
           "GET /metrics HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
           "GET /metrics HTTP/1.1\r\nX: a\rb\r\n\r\n",
           "GET /metrics HTTP/1.1\r\nHost: x\r\n",
       }) {
    INFO(bad);
    CHECK_FALSE(parse_request_head(bad));
  }
  using namespace std::string_view_literals;
  CHECK_FALSE(parse_request_head("GET /metrics HTTP/1.1\r\nX: a\0b\r\n\r\n"sv));
}

TEST_CASE("http wire: a response carries its length and closes, HEAD keeps the length only", "[http]") {
  const HttpResponse response{503, {{"Content-Type", "text/plain"}}, "not yet\n"};
  CHECK(serialize(response, true) ==
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 8\r\n"
        "Connection: close\r\n\r\nnot yet\n");
  CHECK(serialize(response, false) ==
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 8\r\n"
        "Connection: close\r\n\r\n");
}

TEST_CASE("status routes: each path, method and readiness", "[http]") {
  std::optional<std::string> not_ready;
  const StatusSources sources{[] { return std::string("m 1\n"); }, [&] { return not_ready; }};
  auto get = [&](const std::string& method, const std::string& path) {
    return answer(RequestHead{method, path}, sources);
  };

  auto response = get("GET", "/metrics");
  CHECK(response.status == 200);
  CHECK(response.body == "m 1\n");
  CHECK(header(response, "Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(get("HEAD", "/metrics").body == "m 1\n");  // the server leaves it out, keeping its length

  response = get("GET", "/healthz");
  CHECK(response.status == 200);
  CHECK(response.body == "ok\n");

  CHECK(get("GET", "/readyz").status == 200);
  CHECK(get("GET", "/readyz").body == "ready\n");
  not_ready = "waiting for the first pass";
  CHECK(get("GET", "/readyz").status == 503);
  CHECK(get("GET", "/readyz").body == "waiting for the first pass\n");

  CHECK(get("GET", "/").status == 404);
  CHECK(get("GET", "/metrics/").status == 404);
  CHECK(get("POST", "/nope").status == 404);
  for (const char* method : {"POST", "PUT", "DELETE", "OPTIONS", "get"}) {
    response = get(method, "/healthz");
    CHECK(response.status == 405);
    CHECK(header(response, "Allow") == "GET, HEAD");
  }
}

TEST_CASE("status routes: an exception from a source is a 500, not a crash", "[http]") {
  const StatusSources sources{[]() -> std::string { throw std::runtime_error("registry gone"); },
                              []() -> std::optional<std::string> { throw 42; }};
  auto response = answer(RequestHead{"GET", "/metrics"}, sources);
  CHECK(response.status == 500);
  CHECK(response.body == "internal error: registry gone\n");
  CHECK(answer(RequestHead{"GET", "/readyz"}, sources).status == 500);
  CHECK(answer(RequestHead{"GET", "/healthz"}, sources).status == 200);
}

TEST_CASE("status routes: without sources, metrics are empty and the process is ready", "[http]") {
  const StatusSources none;
  CHECK(answer(RequestHead{"GET", "/metrics"}, none).body.empty());
  CHECK(answer(RequestHead{"GET", "/readyz"}, none).status == 200);
}

}  // namespace http_wire_test
