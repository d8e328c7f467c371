// The desired state's JSON for people and saved plans: pinned, because a
// saved plan's digest is taken of its bytes and a plan saved by one mxctl
// must not turn stale under the next one for nothing.

#include "controller/state_json.h"

#include <catch2/catch.hpp>

#include "adapters/manifests/yaml_manifests.h"
#include "controller/saved_plan.h"
#include "model/compile.h"
#include "model/settings.h"

namespace state_json_test {

namespace {

model::Settings example_settings() {
  model::Settings settings;
  settings.server_name = "example.org";
  settings.bot_user_id = "@mxctl:example.org";
  return settings;
}

// Every optional part set, power levels with keys mxctl does not manage.
model::MatrixState full_state() {
  model::MatrixState state;
  model::Account account;
  account.key = "q";
  account.localpart = "q";
  account.user_id = "@q:example.org";
  account.display_name = "Qu\"ote\\back";
  account.linked_accounts = {"@x:y", "ctl\x01x"};
  account.status = model::AccountStatus::suspended;
  account.protect = true;
  state.accounts[account.key] = account;
  model::Room room;
  room.key = "community/q";
  room.alias = "#mxctl.community/q:example.org";
  room.name = "new\nline\ttab";
  room.topic = "About new\nline\ttab";
  room.room_version = "10";
  room.power_levels.users["@mxctl:example.org"] = 100;
  room.power_levels.unmanaged =
      R"({"ban": 1, "custom": {"x": [1, 2]}, "notifications": {"room": 3, "other": 9}, "a": null})";
  room.power_levels.events["m.x"] = 5;
  room.children = {{"c", {"v"}, false}};
  room.parent = model::SpaceLink{"p", {}, true};
  room.once_message = model::OnceMessage{"t", "\xc3\xbcn\xc3\xaf" "c"};
  room.avatar_url = "mxc://a/b";
  room.allow_spaces = {"!s:x"};
  room.archived_at = 5;
  state.rooms[room.key] = room;
  return state;
}

}  // namespace

TEST_CASE("state json: the example desired state keeps the digest saved plans were made with", "[state_json]") {
  adapters::LoadedManifests manifests = adapters::load_manifests({std::string(MXCTL_SOURCE_DIR) + "/manifests"});
  REQUIRE(manifests.diagnostics.empty());
  const model::MatrixState desired = model::compile(manifests.topology, example_settings());
  CHECK(controller::digest(desired) == "3d459a20cb2087ce");  // since councils and coordination rooms forbid guests
}

TEST_CASE("state json: every part of a state is written as it always was", "[state_json]") {
  const model::MatrixState state = full_state();
  CHECK(controller::digest(state) == "b34bde65283bffa2");
  CHECK(controller::state_json(state).dump() ==
        R"({"accounts":{"q":{"admin":false,"display_name":"Qu\"ote\\back","linked_accounts":["@x:y","ctl\u0001x"],)"
        R"("localpart":"q","status":"suspended","user_id":"@q:example.org"}},"rooms":{"community/q":{)"
        R"("alias":"#mxctl.community/q:example.org","allow_spaces":["!s:x"],"archived":false,)"
        R"("avatar_url":"mxc://a/b","children":[{"canonical":false,"key":"c","via":["v"]}],"encrypted":false,)"
        R"("history_visibility":"shared","is_direct":false,"join_rule":"invite","key":"community/q","kind":"room",)"
        R"("members":[],"name":"new\nline\ttab","once_message":{"body":"ünïc","txn_id":"t"},)"
        R"("parent":{"canonical":true,"key":"p","via":[]},"power_levels":{"a":null,"ban":50,"custom":{"x":[1,2]},)"
        R"("events":{"m.x":5},"events_default":0,"invite":0,"kick":50,"notifications":{"other":9,"room":50},)"
        R"("redact":50,"state_default":50,"users":{"@mxctl:example.org":100},"users_default":0},)"
        R"("room_version":"10","topic":"About new\nline\ttab"}}})");
}

TEST_CASE("state json: a room that keeps guests out says so, others say nothing of guests", "[state_json]") {
  model::MatrixState state = full_state();
  CHECK_FALSE(controller::state_json(state)["rooms"]["community/q"].contains("guest_access"));
  state.rooms["community/q"].guests_forbidden = true;
  CHECK(controller::state_json(state)["rooms"]["community/q"]["guest_access"] == "forbidden");
}

TEST_CASE("state json: an empty state has both maps", "[state_json]") {
  CHECK(controller::state_json({}).dump() == R"({"accounts":{},"rooms":{}})");
}

}  // namespace state_json_test
