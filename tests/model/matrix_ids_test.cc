#include "model/matrix_ids.h"

#include <catch2/catch.hpp>

namespace matrix_ids_test {

namespace {

using model::check_key;
using model::check_localpart;
using model::check_mxc_uri;
using model::check_server_name;
using model::check_user_id;
using model::UserIdGrammar;

}  // namespace

TEST_CASE("matrix ids: localparts use the current grammar", "[matrix_ids]") {
  SECTION("every allowed character is accepted") {
    CHECK_FALSE(check_localpart("alice"));
    CHECK_FALSE(check_localpart("a.b_c=d-e/f+g0123456789"));
    CHECK_FALSE(check_localpart("550e8400-e29b-41d4-a716-446655440000"));
  }
  SECTION("empty is rejected") { CHECK(check_localpart("") == "must not be empty"); }
  SECTION("upper case names the offending character") {
    CHECK(check_localpart("Bob") ==
          "contains \"B\"; only a-z, 0-9, \".\", \"_\", \"=\", \"-\", \"/\" and \"+\" are allowed");
  }
  SECTION("a colon or a space is rejected") {
    CHECK(check_localpart("a:b")->starts_with("contains \":\""));
    CHECK(check_localpart("a b")->starts_with("contains \" \""));
  }
  SECTION("bytes outside printable ASCII are shown by value") {
    CHECK(check_localpart("caf\xc3\xa9")->starts_with("contains byte 0xC3"));
    CHECK(check_localpart("a\tb")->starts_with("contains byte 0x09"));
  }
  SECTION("a double quote is shown in single quotes") { CHECK(check_localpart("a\"b")->starts_with("contains '\"'")); }
}

TEST_CASE("matrix ids: historical localparts accept printable ascii except colon", "[matrix_ids]") {
  CHECK_FALSE(check_localpart("Dana!", UserIdGrammar::historical));
  CHECK_FALSE(check_localpart("~x{}", UserIdGrammar::historical));
  CHECK(check_localpart("a:b", UserIdGrammar::historical) ==
        "contains \":\"; only printable ASCII characters other than \":\" are allowed");
  CHECK(check_localpart("a b", UserIdGrammar::historical)->starts_with("contains \" \""));
  CHECK(check_localpart("", UserIdGrammar::historical) == "must not be empty");
}

TEST_CASE("matrix ids: server names", "[matrix_ids]") {
  SECTION("dns names, ipv4 and bracketed ipv6, each with an optional port") {
    CHECK_FALSE(check_server_name("example.org"));
    CHECK_FALSE(check_server_name("matrix.Example-1.org:8448"));
    CHECK_FALSE(check_server_name("localhost"));
    CHECK_FALSE(check_server_name("1.2.3.4"));
    CHECK_FALSE(check_server_name("1.2.3.4:1"));
    CHECK_FALSE(check_server_name("[1234:5678::abcd]"));
    CHECK_FALSE(check_server_name("[::1]:8008"));
    CHECK_FALSE(check_server_name("[::ffff:1.2.3.4]"));
    CHECK_FALSE(check_server_name("example.org:65535"));
  }
  SECTION("problems") {
    CHECK(check_server_name("") == "must not be empty");
    CHECK(check_server_name(":8448") == "host name must not be empty");
    CHECK(check_server_name("exa mple.org") == "contains \" \"; only letters, digits, \"-\" and \".\" are allowed");
    CHECK(check_server_name("example_org")->starts_with("contains \"_\""));
    CHECK(check_server_name("example.org:") == "port must not be empty");
    CHECK(check_server_name("example.org:http") == "port must be a number, got \"http\"");
    CHECK(check_server_name("example.org:65536") == "port must be at most 65535");
    CHECK(check_server_name("example.org:123456") == "port must be at most 65535");
    CHECK(check_server_name("example.org:80:80") == "port must be a number, got \"80:80\"");
    CHECK(check_server_name("[::1") == "has \"[\" without a closing \"]\"");
    CHECK(check_server_name("[:]") == "IPv6 address must be 2 to 45 characters");
    CHECK(check_server_name("[::g]") == "IPv6 address contains \"g\"");
    CHECK(check_server_name("[::1]x") == "unexpected \"x\" after \"]\"");
    CHECK(check_server_name(std::string(256, 'a')) == "host name is longer than 255 characters");
    CHECK_FALSE(check_server_name(std::string(255, 'a')));
  }
}

TEST_CASE("matrix ids: full user ids", "[matrix_ids]") {
  CHECK_FALSE(check_user_id("@alice:example.org"));
  CHECK_FALSE(check_user_id("@dana:other.example:8448"));
  CHECK_FALSE(check_user_id("@bob:[::1]"));
  CHECK(check_user_id("") == "must not be empty");
  CHECK(check_user_id("dana@other.example") == "must start with \"@\"");
  CHECK(check_user_id("@dana") == "must have the form \"@localpart:server_name\"");
  CHECK(check_user_id("@:other.example") == "localpart must not be empty");
  CHECK(check_user_id("@Dana:other.example")->starts_with("localpart contains \"D\""));
  CHECK_FALSE(check_user_id("@Dana:other.example", UserIdGrammar::historical));
  CHECK(check_user_id("@dana:") == "server name must not be empty");
  CHECK(check_user_id("@dana:other example")->starts_with("server name contains \" \""));

  SECTION("at most 255 bytes including sigil and server name") {
    const std::string server = ":example.org";
    const std::string longest = "@" + std::string(255 - 1 - server.size(), 'a') + server;
    REQUIRE(longest.size() == 255);
    CHECK_FALSE(check_user_id(longest));
    CHECK(check_user_id("@a" + longest.substr(1)) == "is longer than 255 bytes");
  }
}

TEST_CASE("matrix ids: mxc uris", "[matrix_ids]") {
  CHECK_FALSE(check_mxc_uri("mxc://example.org/SEsfnsuifSDFSSEF"));
  CHECK_FALSE(check_mxc_uri("mxc://example.org:8448/abc_DEF-123"));
  CHECK(check_mxc_uri("https://example.org/a.png") == "must start with \"mxc://\"");
  CHECK(check_mxc_uri("mxc://example.org") == "must have the form \"mxc://<server-name>/<media-id>\"");
  CHECK(check_mxc_uri("mxc:///abc") == "server name must not be empty");
  CHECK(check_mxc_uri("mxc://example.org/") == "media id must not be empty");
  CHECK(check_mxc_uri("mxc://example.org/a.png") ==
        "media id contains \".\"; only A-Z, a-z, 0-9, \"_\" and \"-\" are allowed");
  CHECK(check_mxc_uri("mxc://example.org/a/b")->starts_with("media id contains \"/\""));
}

TEST_CASE("matrix ids: manifest keys", "[matrix_ids]") {
  CHECK_FALSE(check_key("riverside"));
  CHECK_FALSE(check_key("request-8841"));
  CHECK_FALSE(check_key("0day"));
  CHECK(check_key("") == "must not be empty");
  CHECK(check_key("-x") == "must start with a lower-case letter or digit, got \"-\"");
  CHECK(check_key("River") == "must start with a lower-case letter or digit, got \"R\"");
  CHECK(check_key("river_side") == "contains \"_\"; only a-z, 0-9 and \"-\" are allowed");
  CHECK(check_key("river.side")->starts_with("contains \".\""));
}

}  // namespace matrix_ids_test
