#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "adapters/homeserver/json_text.h"

namespace json_text_test {

namespace {

std::string written(const nlohmann::json& value) {
  std::string out = "prefix:";
  adapters::append_json_text(out, value);
  return out.substr(7);
}

// A random string over the characters dump() treats differently: quotes,
// backslashes, every control character, DEL, and multi-byte UTF-8.
std::string random_text(std::mt19937& random) {
  static const std::vector<std::string> k_pieces = {"a", "Z",  " ",  "\"", "\\", "/",
                                                    "\x7f", "é", "€", "𝄞", "\xe2\x80\xa8"};
  std::string text;
  const int length = std::uniform_int_distribution<int>(0, 12)(random);
  for (int i = 0; i < length; ++i) {
    if (std::uniform_int_distribution<int>(0, 3)(random) == 0) {
      text += static_cast<char>(std::uniform_int_distribution<int>(0, 0x1f)(random));
    } else {
      text += k_pieces[std::uniform_int_distribution<std::size_t>(0, k_pieces.size() - 1)(random)];
    }
  }
  return text;
}

nlohmann::json random_value(std::mt19937& random, int depth) {
  switch (std::uniform_int_distribution<int>(0, depth > 3 ? 6 : 8)(random)) {
    case 0:
      return nullptr;
    case 1:
      return std::uniform_int_distribution<int>(0, 1)(random) == 1;
    case 2:
      return std::uniform_int_distribution<std::int64_t>(INT64_MIN, INT64_MAX)(random);
    case 3:
      return std::uniform_int_distribution<std::uint64_t>(0, UINT64_MAX)(random);
    case 4:
      return std::uniform_real_distribution<double>(-1e300, 1e300)(random) /
             std::pow(10.0, std::uniform_int_distribution<int>(0, 600)(random));
    case 5:
    case 6:
      return random_text(random);
    case 7: {
      nlohmann::json array = nlohmann::json::array();
      for (int i = std::uniform_int_distribution<int>(0, 4)(random); i > 0; --i) {
        array.push_back(random_value(random, depth + 1));
      }
      return array;
    }
    default: {
      nlohmann::json object = nlohmann::json::object();
      for (int i = std::uniform_int_distribution<int>(0, 4)(random); i > 0; --i) {
        object[random_text(random)] = random_value(random, depth + 1);
      }
      return object;
    }
  }
}

}  // namespace

TEST_CASE("JSON text is written byte for byte as dump() writes it", "[json_text]") {
  SECTION("every control character, quotes, backslashes and UTF-8 in keys and values") {
    std::string every_control;
    for (int c = 0; c < 0x20; ++c) {
      every_control += static_cast<char>(c);
    }
    const nlohmann::json value = {
        {"content", {{"membership", "join"}, {"displayname", "Zoë \"the\" \\ one\x7f 𝄞"}}},
        {every_control, every_control},
        {"", nlohmann::json::array({nullptr, true, false, 0, -1, 1.5, 1e300, -0.0, 18446744073709551615ULL,
                                    nlohmann::json::object(), nlohmann::json::array()})},
        {"state_key", "@a:x"}};
    CHECK(written(value) == value.dump());
    CHECK(written(nlohmann::json::array()) == "[]");
    CHECK(written("\n") == "\"\\n\"");
  }
  SECTION("random values") {
    std::mt19937 random(17);
    for (int i = 0; i < 2000; ++i) {
      const nlohmann::json value = random_value(random, 0);
      INFO(value.dump());
      REQUIRE(written(value) == value.dump());
    }
  }
}

}  // namespace json_text_test
