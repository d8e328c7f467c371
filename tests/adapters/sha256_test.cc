// SHA-256 and HMAC-SHA-256 against published test vectors (FIPS 180-2,
// RFC 4231), so a digest the store keeps things under means what it says;
// and hex both ways, which the PostgreSQL store sends its blobs as.

#include "adapters/sha256.h"

#include <catch2/catch.hpp>

#include <string>

namespace sha256_test {

TEST_CASE("sha256: the published vectors, whole and in parts", "[sha256]") {
  CHECK(adapters::sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(adapters::sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  adapters::Sha256 parts;
  parts.update("a");
  parts.update("bc");
  CHECK(parts.hex() == adapters::sha256_hex("abc"));
}

TEST_CASE("sha256: HMAC-SHA-256 as RFC 4231 gives it", "[sha256]") {
  // RFC 4231, test case 2.
  CHECK(adapters::hmac_sha256_hex("Jefe", "what do ya want for nothing?") ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  CHECK(adapters::hmac_sha256_hex("Jefe2", "what do ya want for nothing?") !=
        adapters::hmac_sha256_hex("Jefe", "what do ya want for nothing?"));
}

TEST_CASE("hex: every byte there and back, and text that is not hex read as nothing", "[sha256]") {
  std::string every;
  for (int byte = 0; byte < 256; ++byte) {
    every.push_back(static_cast<char>(byte));
  }
  CHECK(adapters::bytes_from_hex(adapters::lower_hex(every)) == every);
  CHECK(adapters::bytes_from_hex("") == std::string());
  CHECK(adapters::bytes_from_hex("00FFaB") == std::string("\x00\xff\xab", 3));
  for (const char* damaged : {"0", "abc", "0g", "g0", "\\x00", " 00", "00 "}) {
    CHECK_FALSE(adapters::bytes_from_hex(damaged).has_value());
  }
}

}  // namespace sha256_test
