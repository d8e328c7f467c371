#include <catch2/catch.hpp>

#include "adapters/redact.h"

namespace redact_test {

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

TEST_CASE("redact: a URL's user-info never shows its password", "[redact]") {
  CHECK(adapters::redact("cannot reach the homeserver at https://user:secret@matrix.example.org:8448/x", {}) ==
        "cannot reach the homeserver at https://user:<redacted>@matrix.example.org:8448/x");
  // Without a colon the user-info may be a token itself.
  CHECK(adapters::redact("GET https://syt_token@matrix.example.org failed", {}) ==
        "GET https://<redacted>@matrix.example.org failed");
  CHECK(adapters::redact("\"http://a:b@one\" and \"https://c:d@two/\"", {}) ==
        "\"http://a:<redacted>@one\" and \"https://c:<redacted>@two/\"");
  SECTION("already redacted, or no user-info: unchanged") {
    CHECK(adapters::redact("postgresql://postgres:<redacted>@/db", {}) == "postgresql://postgres:<redacted>@/db");
    CHECK(adapters::redact("https://matrix.example.org:8448/_matrix?x=@a:b", {}) ==
          "https://matrix.example.org:8448/_matrix?x=@a:b");
    CHECK(adapters::redact("invite @alice:example.org via https://example.org", {}) ==
          "invite @alice:example.org via https://example.org");
  }
}

}  // namespace redact_test
