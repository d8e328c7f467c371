// The Synapse admin API over HTTP.

#include <catch2/catch.hpp>

#include "mxsim/tests/sim_fixture.h"

namespace admin_api_test {

using mxsim_test::enc;
using mxsim_test::Reply;
using mxsim_test::Sim;

namespace {

const std::string k_users = "/_synapse/admin/v2/users/";

std::string user_path(const std::string& user_id) { return k_users + enc(user_id); }

Reply password_login(Sim& sim, const std::string& localpart, const std::string& password) {
  return sim.post("/_matrix/client/v3/login", "",
                  {{"type", "m.login.password"},
                   {"identifier", {{"type", "m.id.user"}, {"user", localpart}}},
                   {"password", password}});
}

}  // namespace

TEST_CASE("mxsim: the admin API needs a server admin", "[mxsim]") {
  Sim sim;
  std::string alice = sim.user("alice");
  Reply refused = sim.get(user_path("@alice:mxsim.test"), alice);
  CHECK(refused.status == 403);
  CHECK(refused.errcode() == "M_FORBIDDEN");
  CHECK(refused.error() == "You are not a server admin");
  CHECK(sim.get(user_path("@alice:mxsim.test")).errcode() == "M_MISSING_TOKEN");
}

TEST_CASE("mxsim: server_version", "[mxsim]") {
  Sim sim;
  Reply reply = sim.get("/_synapse/admin/v1/server_version");
  REQUIRE(reply.status == 200);
  CHECK(reply.body["server_version"].is_string());
}

TEST_CASE("mxsim: admin creates and updates accounts with PUT v2/users", "[mxsim]") {
  Sim sim;
  std::string admin = sim.user("admin", true);
  nlohmann::json body = {{"password", "pw1"}, {"displayname", "Lotti Sync"}, {"admin", false}};

  Reply created = sim.put(user_path("@lotti:mxsim.test"), admin, body);
  REQUIRE(created.status == 201);
  CHECK(created.body["name"] == "@lotti:mxsim.test");
  CHECK(created.body["displayname"] == "Lotti Sync");
  CHECK(created.body["admin"] == 0);
  CHECK(created.body["deactivated"] == 0);

  Reply same = sim.put(user_path("@lotti:mxsim.test"), admin, body);
  CHECK(same.status == 200);

  Reply fetched = sim.get(user_path("@lotti:mxsim.test"), admin);
  CHECK(fetched.status == 200);
  CHECK(fetched.body["displayname"] == "Lotti Sync");
  CHECK(password_login(sim, "lotti", "pw1").status == 200);

  SECTION("promotion to admin shows as 1") {
    Reply promoted = sim.put(user_path("@lotti:mxsim.test"), admin, {{"admin", true}});
    CHECK(promoted.body["admin"] == 1);
  }
  SECTION("an unknown user is 404 User not found") {
    Reply missing = sim.get(user_path("@nobody:mxsim.test"), admin);
    CHECK(missing.status == 404);
    CHECK(missing.errcode() == "M_NOT_FOUND");
    CHECK(missing.error() == "User not found");
  }
  SECTION("an invalid localpart is 400 M_INVALID_USERNAME") {
    Reply invalid = sim.put(user_path("@Bad User:mxsim.test"), admin, {{"password", "x"}});
    CHECK(invalid.status == 400);
    CHECK(invalid.errcode() == "M_INVALID_USERNAME");
  }
  SECTION("a remote user is 400 M_UNKNOWN") {
    Reply remote = sim.put(user_path("@x:elsewhere.test"), admin, {{"password", "x"}});
    CHECK(remote.status == 400);
    CHECK(remote.errcode() == "M_UNKNOWN");
    CHECK(remote.error() == "This endpoint can only be used with local users");
  }
}

TEST_CASE("mxsim: listing users pages with next_token", "[mxsim]") {
  Sim sim;
  std::string admin = sim.user("admin", true);
  sim.user("a1");
  sim.user("a2");
  sim.user("a3");
  Reply page = sim.get("/_synapse/admin/v2/users?limit=2", admin);
  REQUIRE(page.status == 200);
  CHECK(page.body["users"].size() == 2);
  CHECK(page.body["total"] == 4);
  REQUIRE(page.body["next_token"].is_string());
  Reply rest = sim.get("/_synapse/admin/v2/users?limit=2&from=" + page.body["next_token"].get<std::string>(), admin);
  CHECK(rest.body["users"].size() == 2);
  CHECK(!rest.body.contains("next_token"));
  CHECK(sim.get("/_synapse/admin/v2/users?limit=-1", admin).status == 400);
}

TEST_CASE("mxsim: deactivation", "[mxsim]") {
  Sim sim;
  std::string admin = sim.user("admin", true);
  std::string bob = sim.user("bob");
  std::string room_id = sim.create_room(admin, {{"preset", "public_chat"}});
  REQUIRE(sim.join(bob, room_id).status == 200);

  Reply reply = sim.post("/_synapse/admin/v1/deactivate/" + enc("@bob:mxsim.test"), admin, nlohmann::json::object());
  REQUIRE(reply.status == 200);
  CHECK(reply.body == nlohmann::json({{"id_server_unbind_result", "success"}}));

  CHECK(sim.get("/_matrix/client/v3/account/whoami", bob).errcode() == "M_UNKNOWN_TOKEN");
  Reply login = password_login(sim, "bob", "pw-bob");
  CHECK(login.status == 403);
  CHECK(login.errcode() == "M_USER_DEACTIVATED");
  CHECK(sim.get(user_path("@bob:mxsim.test"), admin).body["deactivated"] == 1);
  CHECK(sim.get_state(admin, room_id, "m.room.member", "@bob:mxsim.test").body["membership"] == "leave");

  SECTION("reactivating without a password is refused") {
    Reply refused = sim.put(user_path("@bob:mxsim.test"), admin, {{"deactivated", false}});
    CHECK(refused.status == 400);
    CHECK(refused.errcode() == "M_UNKNOWN");
    CHECK(refused.error() == "Must provide a password to re-activate an account.");
    Reply reactivated = sim.put(user_path("@bob:mxsim.test"), admin, {{"deactivated", false}, {"password", "new"}});
    CHECK(reactivated.status == 200);
    CHECK(reactivated.body["deactivated"] == 0);
    CHECK(password_login(sim, "bob", "new").status == 200);
  }
  SECTION("deactivated users drop out of the default listing") {
    Reply listing = sim.get("/_synapse/admin/v2/users", admin);
    for (const auto& user : listing.body["users"]) {
      CHECK(user["name"] != "@bob:mxsim.test");
    }
    Reply all = sim.get("/_synapse/admin/v2/users?deactivated=true", admin);
    CHECK(all.body["total"] == 2);
  }
  SECTION("an unknown user is 404") {
    CHECK(sim.post("/_synapse/admin/v1/deactivate/" + enc("@nobody:mxsim.test"), admin, nlohmann::json::object()).status == 404);
  }
}

TEST_CASE("mxsim: suspension blocks writes with M_USER_SUSPENDED", "[mxsim]") {
  Sim sim;
  std::string admin = sim.user("admin", true);
  std::string bob = sim.user("bob");
  std::string room_id = sim.create_room(admin, {{"preset", "public_chat"}});
  REQUIRE(sim.join(bob, room_id).status == 200);
  const std::string path = "/_synapse/admin/v1/suspend/" + enc("@bob:mxsim.test");
  Reply suspended = sim.put(path, admin, {{"suspend", true}});
  REQUIRE(suspended.status == 200);
  CHECK(sim.get(user_path("@bob:mxsim.test"), admin).body["suspended"] == 1);

  Reply send = sim.put(Sim::room_path(room_id, "/send/m.room.message/s1"), bob, {{"body", "x"}});
  CHECK(send.status == 403);
  CHECK(send.errcode() == "M_USER_SUSPENDED");
  Reply create = sim.post("/_matrix/client/v3/createRoom", bob, nlohmann::json::object());
  CHECK(create.errcode() == "M_USER_SUSPENDED");
  Reply profile = sim.put("/_matrix/client/v3/profile/" + enc("@bob:mxsim.test") + "/displayname", bob, {{"displayname", "x"}});
  CHECK(profile.errcode() == "M_USER_SUSPENDED");
  CHECK(sim.get("/_matrix/client/v3/account/whoami", bob).status == 200);
  CHECK(sim.post(Sim::room_path(room_id, "/leave"), bob).status == 200);

  REQUIRE(sim.put(path, admin, {{"suspend", false}}).status == 200);
  CHECK(sim.join(bob, room_id).status == 200);

  SECTION("a non-boolean is 400 M_BAD_JSON") {
    Reply bad = sim.put(path, admin, {{"suspend", "yes"}});
    CHECK(bad.status == 400);
    CHECK(bad.errcode() == "M_BAD_JSON");
  }
}

TEST_CASE("mxsim: the suspend API can act like Synapse 1.67 (absent)", "[mxsim]") {
  Sim sim;
  sim.hs().mutable_settings().suspend_api = false;
  std::string admin = sim.user("admin", true);
  sim.user("bob");
  Reply reply = sim.put("/_synapse/admin/v1/suspend/" + enc("@bob:mxsim.test"), admin, {{"suspend", true}});
  CHECK(reply.status == 400);
  CHECK(reply.errcode() == "M_UNRECOGNIZED");
}

TEST_CASE("mxsim: without the `locked` flag (Synapse 1.67) it is accepted, ignored and not shown", "[mxsim]") {
  Sim sim;
  sim.hs().mutable_settings().suspend_api = false;
  sim.hs().mutable_settings().locked_flag = false;
  std::string admin = sim.user("admin", true);
  sim.user("bob");
  const std::string path = "/_synapse/admin/v2/users/" + enc("@bob:mxsim.test");
  Reply put = sim.put(path, admin, {{"locked", true}});
  CHECK(put.status == 200);
  Reply details = sim.get(path, admin);
  REQUIRE(details.status == 200);
  CHECK_FALSE(details.body.contains("locked"));
  CHECK_FALSE(details.body.contains("suspended"));
  auto lock = sim.hs().read_lock();
  CHECK_FALSE(sim.hs().state().find_user("@bob:mxsim.test")->locked);
}

TEST_CASE("mxsim: admin account data of a user", "[mxsim]") {
  Sim sim;
  std::string admin = sim.user("admin", true);
  std::string bob = sim.user("bob");
  REQUIRE(sim.put("/_matrix/client/v3/user/" + enc("@bob:mxsim.test") + "/account_data/m.direct", bob,
                  {{"@carol:mxsim.test", {"!r:mxsim.test"}}})
              .status == 200);
  Reply data = sim.get("/_synapse/admin/v1/users/" + enc("@bob:mxsim.test") + "/accountdata", admin);
  REQUIRE(data.status == 200);
  CHECK(data.body["account_data"]["global"]["m.direct"] ==
        nlohmann::json{{"@carol:mxsim.test", {"!r:mxsim.test"}}});
  CHECK(data.body["account_data"]["rooms"] == nlohmann::json::object());
  CHECK(sim.get("/_synapse/admin/v1/users/" + enc("@nobody:mxsim.test") + "/accountdata", admin).status == 404);
  CHECK(sim.get("/_synapse/admin/v1/users/" + enc("@bob:elsewhere.org") + "/accountdata", admin).status == 400);
  CHECK(sim.get("/_synapse/admin/v1/users/" + enc("@bob:mxsim.test") + "/accountdata", bob).status == 403);
}

TEST_CASE("mxsim: admin login-as-user", "[mxsim]") {
  Sim sim;
  std::string admin = sim.user("admin", true);
  sim.user("bob");
  Reply login = sim.post("/_synapse/admin/v1/users/" + enc("@bob:mxsim.test") + "/login", admin,
                         {{"valid_until_ms", 4102444800000}});
  REQUIRE(login.status == 200);
  CHECK(sim.get("/_matrix/client/v3/account/whoami", login.body["access_token"]).body["user_id"] == "@bob:mxsim.test");
  Reply self = sim.post("/_synapse/admin/v1/users/" + enc("@admin:mxsim.test") + "/login", admin);
  CHECK(self.status == 400);
}

TEST_CASE("mxsim: rate limit overrides", "[mxsim]") {
  Sim sim;
  std::string admin = sim.user("admin", true);
  sim.user("bob");
  const std::string path = "/_synapse/admin/v1/users/" + enc("@bob:mxsim.test") + "/override_ratelimit";
  CHECK(sim.get(path, admin).body == nlohmann::json::object());
  Reply set = sim.post(path, admin, {{"messages_per_second", 0}, {"burst_count", 0}});
  CHECK(set.body == nlohmann::json({{"messages_per_second", 0}, {"burst_count", 0}}));
  CHECK(sim.get(path, admin).body["burst_count"] == 0);
  CHECK(sim.del(path, admin).body == nlohmann::json::object());
  CHECK(sim.get(path, admin).body == nlohmann::json::object());
}

TEST_CASE("mxsim: admin room list, details, state and members", "[mxsim]") {
  Sim sim;
  std::string admin = sim.user("admin", true);
  std::string bot = sim.user("bot");
  std::string space = sim.create_room(bot, {{"name", "A space"}, {"creation_content", {{"type", "m.space"}}}});
  std::string room_id = sim.create_room(
      bot, {{"name", "B room"},
            {"room_alias_name", "b"},
            {"initial_state", {{{"type", "m.room.encryption"}, {"content", {{"algorithm", "m.megolm.v1.aes-sha2"}}}}}}});

  Reply list = sim.get("/_synapse/admin/v1/rooms", admin);
  REQUIRE(list.status == 200);
  CHECK(list.body["total_rooms"] == 2);
  CHECK(list.body["offset"] == 0);
  REQUIRE(list.body["rooms"].size() == 2);
  CHECK(list.body["rooms"][0]["room_id"] == space);
  CHECK(list.body["rooms"][0]["room_type"] == "m.space");
  CHECK(list.body["rooms"][1]["room_type"].is_null());
  CHECK(list.body["rooms"][1]["encryption"] == "m.megolm.v1.aes-sha2");
  CHECK(list.body["rooms"][1]["canonical_alias"] == "#b:mxsim.test");
  CHECK(list.body["rooms"][1]["joined_members"] == 1);

  Reply paged = sim.get("/_synapse/admin/v1/rooms?limit=1", admin);
  CHECK(paged.body["rooms"].size() == 1);
  CHECK(paged.body["next_batch"] == 1);

  Reply details = sim.get("/_synapse/admin/v1/rooms/" + enc(room_id), admin);
  CHECK(details.body["name"] == "B room");
  CHECK(details.body["creator"] == "@bot:mxsim.test");
  Reply state = sim.get("/_synapse/admin/v1/rooms/" + enc(room_id) + "/state", admin);
  CHECK(state.body["state"].size() >= 7);
  Reply members = sim.get("/_synapse/admin/v1/rooms/" + enc(room_id) + "/members", admin);
  CHECK(members.body == nlohmann::json({{"members", {"@bot:mxsim.test"}}, {"total", 1}}));
  CHECK(sim.get("/_synapse/admin/v1/rooms/" + enc("!nope:mxsim.test"), admin).status == 404);
}

TEST_CASE("mxsim: room deletion v2 with delete status", "[mxsim]") {
  Sim sim;
  std::string admin = sim.user("admin", true);
  std::string bot = sim.user("bot");
  std::string space = sim.create_room(bot, {{"creation_content", {{"type", "m.space"}}}});
  std::string room_id = sim.create_room(bot, {{"room_alias_name", "doomed"}});
  REQUIRE(sim.put_state(bot, space, "m.space.child", room_id, {{"via", {"mxsim.test"}}}).status == 200);
  const std::string path = "/_synapse/admin/v2/rooms/" + enc(room_id);

  SECTION("without a body nothing is deleted") {
    Reply refused = sim.del(path, admin);
    CHECK(refused.status == 400);
    CHECK(refused.errcode() == "M_NOT_JSON");
    CHECK(sim.get("/_synapse/admin/v1/rooms/" + enc(room_id), admin).status == 200);
  }
  SECTION("with purge the room, its alias and members go") {
    Reply started = sim.del(path, admin, R"({"purge": true})");
    REQUIRE(started.status == 200);
    std::string delete_id = started.body["delete_id"];
    Reply status = sim.get("/_synapse/admin/v2/rooms/delete_status/" + delete_id, admin);
    CHECK(status.body["status"] == "complete");
    CHECK(status.body["shutdown_room"]["kicked_users"] == nlohmann::json::array({"@bot:mxsim.test"}));
    CHECK(status.body["shutdown_room"]["local_aliases"] == nlohmann::json::array({"#doomed:mxsim.test"}));
    Reply by_room = sim.get(path + "/delete_status", admin);
    CHECK(by_room.body["results"].size() == 1);

    CHECK(sim.get("/_synapse/admin/v1/rooms/" + enc(room_id), admin).status == 404);
    CHECK(sim.get("/_matrix/client/v3/directory/room/" + enc("#doomed:mxsim.test")).status == 404);
    CHECK(sim.get_state(bot, room_id, "m.room.name").status == 403);
    CHECK(sim.get_state(bot, space, "m.space.child", room_id).status == 200);
  }
  SECTION("v1 answers synchronously") {
    Reply done = sim.del("/_synapse/admin/v1/rooms/" + enc(room_id), admin, "{}");
    REQUIRE(done.status == 200);
    CHECK(done.body["kicked_users"] == nlohmann::json::array({"@bot:mxsim.test"}));
    CHECK(done.body["new_room_id"].is_null());
  }
  SECTION("an unknown delete id is 404") {
    CHECK(sim.get("/_synapse/admin/v2/rooms/delete_status/nope", admin).status == 404);
  }
}

TEST_CASE("mxsim: admin force join", "[mxsim]") {
  Sim sim;
  std::string admin = sim.user("admin", true);
  sim.user("bob");
  std::string room_id = sim.create_room(admin, {{"preset", "private_chat"}, {"room_alias_name", "ops"}});
  Reply joined = sim.post("/_synapse/admin/v1/join/" + enc("#ops:mxsim.test"), admin, {{"user_id", "@bob:mxsim.test"}});
  REQUIRE(joined.status == 200);
  CHECK(joined.body["room_id"] == room_id);
  CHECK(sim.get_state(admin, room_id, "m.room.member", "@bob:mxsim.test").body["membership"] == "join");
  Reply unknown = sim.post("/_synapse/admin/v1/join/" + enc(room_id), admin, {{"user_id", "@ghost:mxsim.test"}});
  CHECK(unknown.status == 404);
}

TEST_CASE("mxsim: a room deleted with block: true cannot be joined again", "[mxsim]") {
  Sim sim;
  std::string admin = sim.user("admin", true);
  std::string bot = sim.user("bot");
  std::string alice = sim.user("alice");
  std::string room_id = sim.create_room(bot, {{"preset", "public_chat"}});
  REQUIRE(sim.del("/_synapse/admin/v2/rooms/" + enc(room_id), admin, R"({"block": true, "purge": false})").status == 200);
  CHECK(sim.get("/_synapse/admin/v1/rooms/" + enc(room_id), admin).body["joined_members"] == 0);
  Reply refused = sim.join(alice, room_id);
  CHECK(refused.status == 403);
  CHECK(refused.error() == "This room has been blocked on this server");
}

}  // namespace admin_api_test
