// The provisioning bundle's encoding (URL-safe base64 of a JSON object, no
// padding), what a broken one is told apart by, and the random secrets.

#include "adapters/homeserver/provisioning_bundle.h"

#include <catch2/catch.hpp>

#include <set>

namespace provisioning_bundle_test {

TEST_CASE("provisioning bundle: encodes as URL-safe base64 without padding and reads back", "[bundle]") {
  // Bytes whose standard base64 holds '+' and '/', and a length that pads.
  adapters::ProvisioningBundle bundle{"https://matrix.example.org", "@alice:example.org", "a?\?\?>>>?\?\?~~~", "!r:example.org"};
  const std::string text = adapters::encode_bundle(bundle);
  CHECK(text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
        std::string::npos);
  CHECK(text.find('-') != std::string::npos);
  CHECK(text.find('_') != std::string::npos);
  auto back = adapters::decode_bundle(text);
  REQUIRE(back);
  CHECK(back->homeserver == bundle.homeserver);
  CHECK(back->user == bundle.user);
  CHECK(back->password == bundle.password);
  CHECK(back->room_id == bundle.room_id);
  // The seed's field names and order, version 1.
  CHECK(adapters::encode_bundle({"h", "u", "p", "r"}) ==
        "eyJ2IjoxLCJob21lU2VydmVyIjoiaCIsInVzZXIiOiJ1IiwicGFzc3dvcmQiOiJwIiwicm9vbUlkIjoiciJ9");
}

TEST_CASE("provisioning bundle: a broken one says what is wrong", "[bundle]") {
  auto reason = [](const std::string& text) {
    auto decoded = adapters::decode_bundle(text);
    REQUIRE_FALSE(decoded);
    return decoded.error().message;
  };
  CHECK(reason("not base64!").find("base64") != std::string::npos);
  CHECK(reason("eyJ2IjoxfQ==").find("base64") != std::string::npos);  // padding
  CHECK(reason("bm90IGpzb24").find("JSON object") != std::string::npos);  // "not json"
  CHECK(reason("eyJ2IjozfQ").find("\"v\"") != std::string::npos);       // {"v":3}
  CHECK(reason("eyJ2IjoxfQ").find("\"homeServer\"") != std::string::npos);  // {"v":1}
}

TEST_CASE("provisioning bundle: version 2 carries an access token and its device instead of a password",
          "[bundle]") {
  adapters::ProvisioningBundle bundle{"https://m.example.org", "@bob:example.org", "", "!r:example.org",
                                      "syt_Ym9i_token", "ABCDEFGHIJ"};
  const std::string text = adapters::encode_bundle(bundle);
  auto back = adapters::decode_bundle(text);
  REQUIRE(back);
  CHECK(back->access_token == "syt_Ym9i_token");
  CHECK(back->device_id == "ABCDEFGHIJ");
  CHECK(back->password.empty());
  CHECK(back->room_id == "!r:example.org");
  // Field names and order: the password's place holds the token and device.
  CHECK(adapters::encode_bundle({"h", "u", "", "r", "t", "d"}) ==
        "eyJ2IjoyLCJob21lU2VydmVyIjoiaCIsInVzZXIiOiJ1IiwiYWNjZXNzVG9rZW4iOiJ0IiwiZGV2aWNlSWQiOiJkIiwicm9vbUlkIjoiciJ9");
  // {"v":2,"homeServer":"h","user":"u","password":"p","roomId":"r"}: a
  // version 2 bundle without its token is broken, whatever else it holds.
  auto broken = adapters::decode_bundle(
      "eyJ2IjoyLCJob21lU2VydmVyIjoiaCIsInVzZXIiOiJ1IiwicGFzc3dvcmQiOiJwIiwicm9vbUlkIjoiciJ9");
  REQUIRE_FALSE(broken);
  CHECK(broken.error().message.find("\"accessToken\"") != std::string::npos);
}

TEST_CASE("provisioning bundle: random secrets are 32 bytes, URL-safe, and differ", "[bundle]") {
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    auto secret = adapters::random_secret();
    REQUIRE(secret);
    CHECK(secret->size() == 43);
    CHECK(secret->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
          std::string::npos);
    seen.insert(*secret);
  }
  CHECK(seen.size() == 50);
}

}  // namespace provisioning_bundle_test
