#include <catch2/catch.hpp>

#include "adapters/redact.h"

TEST_CASE("redact: known secrets and access_token parameters never survive", "[redact]") {
  CHECK(adapters::redact("token syt_abc failed; again syt_abc", {"syt_abc"}) ==
        "token <redacted> failed; again <redacted>");
  CHECK(adapters::redact("GET /sync?since=s1&access_token=zzz&timeout=0", {}) ==
        "GET /sync?since=s1&access_token=<redacted>&timeout=0");
  CHECK(adapters::redact("GET /x?access_token=zzz", {}) == "GET /x?access_token=<redacted>");
  SECTION("an empty secret redacts nothing") {
    CHECK(adapters::redact("plain text", {""}) == "plain text");
  }
}
