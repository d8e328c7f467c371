// How a homeserver's error answer becomes a model::Error: the kind decides
// retries, the message is for people, and the Matrix errcode travels as its
// own field so that nothing downstream reads it back out of the message.

#include <catch2/catch.hpp>

#include <chrono>

#include "adapters/homeserver/matrix_client.h"

namespace matrix_client_errors_test {

using Kind = model::Error::Kind;

TEST_CASE("matrix client errors: an error answer's errcode is the error's own field", "[client][errors]") {
  adapters::MatrixFailure failure = adapters::classify_failure(
      "PUT", "/_synapse/admin/v2/users/%40a%3Ax", 403,
      R"({"errcode":"M_FORBIDDEN","error":"You are not a server admin"})", "");
  CHECK(failure.status == 403);
  CHECK(failure.error.kind == Kind::forbidden);
  CHECK(failure.error.errcode == "M_FORBIDDEN");
  CHECK(failure.error.message ==
        "PUT /_synapse/admin/v2/users/%40a%3Ax: HTTP 403 M_FORBIDDEN: You are not a server admin");
}

TEST_CASE("matrix client errors: the errcode is taken as the server sent it, whatever the message says",
          "[client][errors]") {
  SECTION("an errcode outside the spec's M_ namespace") {
    auto failure = adapters::classify_failure("POST", "/x", 400, R"({"errcode":"ORG.EXAMPLE.NOPE","error":"M_FAKE"})",
                                              "");
    CHECK(failure.error.errcode == "ORG.EXAMPLE.NOPE");
    CHECK(failure.error.kind == Kind::invalid);
  }
  SECTION("a rate limit keeps both its errcode and its wait") {
    auto failure = adapters::classify_failure(
        "POST", "/x", 429, R"({"errcode":"M_LIMIT_EXCEEDED","error":"Too Many Requests","retry_after_ms":1500})", "");
    CHECK(failure.error.kind == Kind::rate_limited);
    CHECK(failure.error.errcode == "M_LIMIT_EXCEEDED");
    CHECK(failure.error.retry_after == std::chrono::milliseconds(1500));
  }
}

TEST_CASE("matrix client errors: an answer without a Matrix errcode has none", "[client][errors]") {
  SECTION("a proxy's page") {
    auto failure = adapters::classify_failure("GET", "/x", 502, "<html>Bad Gateway M_UNKNOWN</html>", "");
    CHECK(failure.error.kind == Kind::transient);
    CHECK(failure.error.errcode.empty());
  }
  SECTION("an errcode that is not a string") {
    auto failure = adapters::classify_failure("GET", "/x", 400, R"({"errcode":17,"error":"M_BAD_JSON"})", "");
    CHECK(failure.error.errcode.empty());
    CHECK(failure.error.message == "GET /x: HTTP 400: M_BAD_JSON");
  }
}

}  // namespace matrix_client_errors_test
