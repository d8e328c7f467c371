#include <catch2/catch.hpp>

#include "model/suggest.h"

namespace suggest_test {

TEST_CASE("suggest: edit distance counts insertions, deletions and substitutions", "[suggest]") {
  CHECK(model::edit_distance("", "") == 0);
  CHECK(model::edit_distance("name", "name") == 0);
  CHECK(model::edit_distance("nam", "name") == 1);
  CHECK(model::edit_distance("nmae", "name") == 2);
  CHECK(model::edit_distance("kitten", "sitting") == 3);
  CHECK(model::edit_distance("", "abc") == 3);
}

TEST_CASE("suggest: the closest plausible candidate is offered", "[suggest]") {
  const std::vector<std::string> fields = {"name", "topic", "avatarUrl", "members", "generalRoom"};
  CHECK(model::closest_match("topc", fields) == std::optional<std::string>("topic"));
  CHECK(model::closest_match("AvatarURL", fields) == std::optional<std::string>("avatarUrl"));
  CHECK(model::closest_match("membres", fields) == std::optional<std::string>("members"));
  SECTION("nothing when every candidate is too far") {
    CHECK_FALSE(model::closest_match("colour", fields).has_value());
    CHECK_FALSE(model::closest_match("x", {}).has_value());
  }
  SECTION("the message fragment is ready to append") {
    CHECK(model::did_you_mean("Comunity", {"User", "Community", "Council"}) == " (did you mean \"Community\"?)");
    CHECK(model::did_you_mean("Planet", {"User", "Community", "Council"}).empty());
  }
}

}  // namespace suggest_test
