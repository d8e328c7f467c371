#include <catch2/catch.hpp>

#include "controller/render_state.h"

namespace render_state_test {

namespace {

model::MatrixState small_state() {
  model::MatrixState state;
  model::Account alice;
  alice.key = "alice";
  alice.user_id = "@alice:example.org";
  alice.localpart = "alice";
  alice.display_name = "Alice \"Al\" Rivers";
  state.accounts["alice"] = alice;

  model::Room space;
  space.key = "community/riverside";
  space.alias = "#mxctl.community.riverside:example.org";
  space.kind = model::RoomKind::space;
  space.name = "Riverside";
  space.room_version = "10";
  space.power_levels.users = {{"@mxctl:example.org", 100}, {"@alice:example.org", 50}};
  space.power_levels.events = {{"m.room.power_levels", 100}};
  space.children = {{"community/riverside/general", {"example.org"}, true}};
  space.members = {"@alice:example.org"};
  state.rooms[space.key] = space;
  return state;
}

}  // namespace

TEST_CASE("render state: blocks are aligned and deterministic", "[render]") {
  const std::string expected = R"(account "alice" {
  user_id      = "@alice:example.org"
  display_name = "Alice \"Al\" Rivers"
  admin        = false
  status       = "active"
}

space "community/riverside" {
  alias              = "#mxctl.community.riverside:example.org"
  name               = "Riverside"
  room_version       = "10"
  join_rule          = "invite"
  history_visibility = "shared"
  encrypted          = false
  children           = [
    "community/riverside/general",
  ]
  power_levels       = {
    ban = 50, invite = 0, kick = 50, redact = 50
    events_default = 0, state_default = 50, users_default = 0
    events = {
      "m.room.power_levels" = 100
    }
    users = {
      "@alice:example.org" = 50
      "@mxctl:example.org" = 100
    }
  }
  members            = [
    "@alice:example.org",
  ]
}

Desired state: 1 account, 1 room (1 space), 1 membership.
)";
  CHECK(controller::render_state_text(small_state()) == expected);
}

TEST_CASE("render state: the summary counts spaces and memberships", "[render]") {
  CHECK(controller::summarize_state(model::MatrixState{}) == "0 accounts, 0 rooms (0 spaces), 0 memberships");
  CHECK(controller::summarize_state(small_state()) == "1 account, 1 room (1 space), 1 membership");
}

TEST_CASE("render state: control characters in values are escaped", "[render]") {
  model::MatrixState state = small_state();
  state.accounts["alice"].display_name = "Alice\x1b[2J\r\nRoot\xe2\x80\xae";
  state.rooms["community/riverside"].once_message = model::OnceMessage{"t", "Hello\n\tthere\x07"};
  const std::string text = controller::render_state_text(state);
  CHECK(text.find("  display_name = \"Alice\\u001b[2J\\r\\nRoot\\u202e\"\n") != std::string::npos);
  CHECK(text.find("  once_message       = \"Hello\\n\\tthere\\u0007\"\n") != std::string::npos);
  CHECK(text.find('\x1b') == std::string::npos);
}

}  // namespace render_state_test
