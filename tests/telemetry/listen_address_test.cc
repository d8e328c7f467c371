// `--status-listen ADDR:PORT`: the forms accepted, and for each wrong form an
// error that says what is wrong with it.

#include "controller/telemetry/listen_address.h"

#include <catch2/catch.hpp>

namespace listen_address_test {

namespace {

using controller::telemetry::parse_listen_address;

// The error message for `text`, which must be refused as invalid.
std::string refusal(const std::string& text) {
  const auto parsed = parse_listen_address(text);
  REQUIRE_FALSE(parsed.has_value());
  CHECK(parsed.error().kind == model::Error::Kind::invalid);
  return parsed.error().message;
}

constexpr const char* k_hint = " (expected ADDR:PORT, e.g. 127.0.0.1:9464 or [::1]:9464)";

}  // namespace

TEST_CASE("listen address: IPv4 and bracketed IPv6 with a port", "[listen]") {
  struct Case {
    const char* text;
    const char* ip;
    std::uint16_t port;
    const char* canonical;
  };
  for (const Case& c : {Case{"127.0.0.1:9464", "127.0.0.1", 9464, "127.0.0.1:9464"},
                        Case{"0.0.0.0:9464", "0.0.0.0", 9464, "0.0.0.0:9464"},
                        Case{"[::1]:9464", "::1", 9464, "[::1]:9464"},
                        Case{"[::]:80", "::", 80, "[::]:80"},
                        Case{"[0:0:0:0:0:0:0:1]:1", "::1", 1, "[::1]:1"},
                        Case{"10.1.2.3:0", "10.1.2.3", 0, "10.1.2.3:0"},
                        Case{"127.0.0.1:65535", "127.0.0.1", 65535, "127.0.0.1:65535"}}) {
    INFO(c.text);
    const auto parsed = parse_listen_address(c.text);
    REQUIRE(parsed.has_value());
    CHECK(parsed->ip == c.ip);
    CHECK(parsed->port == c.port);
    CHECK(to_string(*parsed) == c.canonical);
  }
}

TEST_CASE("listen address: wrong forms say what is wrong", "[listen]") {
  CHECK(refusal("") == std::string("listen address \"\": empty") + k_hint);
  CHECK(refusal("127.0.0.1") == std::string("listen address \"127.0.0.1\": missing port") + k_hint);
  CHECK(refusal("127.0.0.1:") == std::string("listen address \"127.0.0.1:\": missing port") + k_hint);
  CHECK(refusal("[::1]") == std::string("listen address \"[::1]\": missing port") + k_hint);
  CHECK(refusal(":9464") ==
        std::string("listen address \":9464\": missing address before the port (0.0.0.0 listens on every IPv4 "
                    "interface)") +
            k_hint);
  CHECK(refusal("127.0.0.1:65536") ==
        std::string("listen address \"127.0.0.1:65536\": port 65536 is out of range (0-65535)") + k_hint);
  CHECK(refusal("127.0.0.1:99999999999999999999999") ==
        std::string("listen address \"127.0.0.1:99999999999999999999999\": port 99999999999999999999999 is out of "
                    "range (0-65535)") +
            k_hint);
  CHECK(refusal("127.0.0.1:http") ==
        std::string("listen address \"127.0.0.1:http\": port \"http\" is not a number") + k_hint);
  CHECK(refusal("127.0.0.1:-1") == std::string("listen address \"127.0.0.1:-1\": port \"-1\" is not a number") + k_hint);
  CHECK(refusal("127.0.0.1: 80") ==
        std::string("listen address \"127.0.0.1: 80\": port \" 80\" is not a number") + k_hint);
  CHECK(refusal("localhost:9464") ==
        std::string("listen address \"localhost:9464\": \"localhost\" is not an IP address (host names are not "
                    "resolved: use 127.0.0.1 or [::1])") +
            k_hint);
  CHECK(refusal("256.0.0.1:80") ==
        std::string("listen address \"256.0.0.1:80\": \"256.0.0.1\" is not an IP address (host names are not "
                    "resolved: use 127.0.0.1 or [::1])") +
            k_hint);
  CHECK(refusal("::1:9464") ==
        std::string("listen address \"::1:9464\": an IPv6 address must be in brackets, as in [::1]:9464") + k_hint);
  CHECK(refusal("[::1:9464") ==
        std::string("listen address \"[::1:9464\": missing ']' after the IPv6 address") + k_hint);
  CHECK(refusal("[::1]9464") ==
        std::string("listen address \"[::1]9464\": expected ':' and a port after ']'") + k_hint);
  CHECK(refusal("[127.0.0.1]:80") ==
        std::string("listen address \"[127.0.0.1]:80\": \"127.0.0.1\" is not an IPv6 address") + k_hint);
  CHECK(refusal("[]:80") == std::string("listen address \"[]:80\": missing address before the port (0.0.0.0 listens "
                                        "on every IPv4 interface)") +
                                k_hint);
}

}  // namespace listen_address_test
