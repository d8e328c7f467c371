// HttpHomeserver against answers that do not have the shape the spec (or
// Synapse's admin API docs) gives: an empty 200, a body of another JSON
// type, a required field missing or of the wrong type. Each is an error that
// names the request and what was wrong, never empty data (an empty user list
// would plan every account again) and never a JSON library exception.

#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <string>

#include "adapters/homeserver/http_homeserver.h"
#include "tests/support/scripted_server.h"

namespace http_answers_test {

namespace {

using testing_support::ScriptedReply;
using testing_support::ScriptedRequest;
using testing_support::ScriptedServer;

const std::string k_bot = "@mxctl:example.org";
const std::string k_users_list = "/_synapse/admin/v2/users?deactivated=true&locked=true&limit=5000&from=0";
const std::string k_sync = "/_matrix/client/v3/sync";

std::string path_of(const std::string& target) { return target.substr(0, target.find('?')); }

// A Synapse with the bot as server admin and two accounts; `answer` may
// replace the answer to any request (by its target, query included, or by
// its path) and otherwise leaves it to the defaults.
class Synapse {
 public:
  using Override = std::function<std::optional<ScriptedReply>(const ScriptedRequest&)>;

  explicit Synapse(Override answer = {})
      : m_answer(std::move(answer)), m_server([this](const ScriptedRequest& request) { return reply(request); }) {}

  std::string url() const { return m_server.url(); }

 private:
  ScriptedReply reply(const ScriptedRequest& request) {
    if (m_answer) {
      if (auto replaced = m_answer(request)) {
        return *replaced;
      }
    }
    const std::string path = path_of(request.target);
    if (path == "/_matrix/client/versions") {
      return ScriptedReply::json(200, {{"versions", {"v1.11"}}});
    }
    if (path == "/_matrix/client/v3/account/whoami") {
      return ScriptedReply::json(200, {{"user_id", k_bot}});
    }
    if (path == "/_synapse/admin/v1/server_version") {
      return ScriptedReply::json(200, {{"server_version", "1.67.0"}});
    }
    if (path == "/_synapse/admin/v2/users") {
      nlohmann::json users = nlohmann::json::array();
      for (const char* name : {"@alice:example.org", "@bob:example.org"}) {
        users.push_back({{"name", name}, {"displayname", "x"}, {"avatar_url", nullptr}, {"admin", 0},
                         {"deactivated", 0}, {"locked", false}, {"is_guest", 0}});
      }
      return ScriptedReply::json(200, {{"users", users}, {"total", 2}});
    }
    if (path == k_sync) {
      return ScriptedReply::json(200, {{"next_batch", "s1"}, {"rooms", {{"join", nlohmann::json::object()}}}});
    }
    if (path.rfind("/_synapse/admin/v1/users/", 0) == 0) {
      return ScriptedReply::json(200, nlohmann::json::object());  // no rate-limit override
    }
    return ScriptedReply::json(404, {{"errcode", "M_UNRECOGNIZED"}, {"error", "Unrecognized request"}});
  }

  Override m_answer;
  ScriptedServer m_server;
};

model::Settings settings_for(const Synapse& server) {
  model::Settings settings;
  settings.homeserver_url = server.url();
  settings.server_name = "example.org";
  settings.bot_user_id = k_bot;
  return settings;
}

adapters::ClientOptions quick() {
  adapters::ClientOptions options;
  options.read_attempts = 1;
  return options;
}

model::MatrixState two_accounts() {
  model::MatrixState desired;
  for (const char* key : {"alice", "bob"}) {
    model::Account account;
    account.key = key;
    account.localpart = key;
    account.user_id = std::string("@") + key + ":example.org";
    desired.accounts[key] = account;
  }
  return desired;
}

// The error of observing (after a probe that must succeed).
std::string observe_error(Synapse& server) {
  adapters::HttpHomeserver homeserver(settings_for(server), "token", quick());
  REQUIRE(homeserver.probe());
  auto observed = homeserver.observe(two_accounts(), {});
  REQUIRE_FALSE(observed);
  CHECK(observed.error().message.find("json.exception") == std::string::npos);
  return observed.error().message;
}

Synapse::Override replace(const std::string& path, ScriptedReply reply) {
  return [path, reply](const ScriptedRequest& request) -> std::optional<ScriptedReply> {
    if (path_of(request.target) == path) {
      return reply;
    }
    return std::nullopt;
  };
}

}  // namespace

TEST_CASE("http answers: the well-formed answers observe both accounts", "[http][answers]") {
  Synapse server;
  adapters::HttpHomeserver homeserver(settings_for(server), "token", quick());
  REQUIRE(homeserver.probe());
  auto observed = homeserver.observe(two_accounts(), {});
  REQUIRE(observed);
  CHECK(observed->state.accounts.size() == 2);
}

TEST_CASE("http answers: an empty or partial user list is an error naming the request, never no users",
          "[http][answers]") {
  std::string body;
  std::string expected;
  SECTION("an empty 200") {
    body = "";
    expected = "the body is empty, expected an object";
  }
  SECTION("an empty object") {
    body = "{}";
    expected = "users is missing (expected an array)";
  }
  SECTION("an array") {
    body = "[]";
    expected = "the body is an array, expected an object";
  }
  SECTION("users of the wrong type") {
    body = R"({"users": {}, "total": 0})";
    expected = "users is an object, expected an array";
  }
  SECTION("no total") {
    body = R"({"users": []})";
    expected = "total is missing (expected an integer)";
  }
  SECTION("a user without a name") {
    body = R"({"users": [{"name": "@alice:example.org"}, {"displayname": "Bob"}], "total": 2})";
    expected = "users[1].name is missing (expected a string)";
  }
  SECTION("a name that is not a string") {
    body = R"({"users": [{"name": 7}], "total": 1})";
    expected = "users[0].name is an integer, expected a string";
  }
  SECTION("a flag that is neither a boolean nor 0/1") {
    body = R"({"users": [{"name": "@alice:example.org", "admin": "yes"}], "total": 1})";
    expected = "users[0].admin is a string, expected a boolean (or 0/1)";
  }
  SECTION("a display name that is not a string") {
    body = R"({"users": [{"name": "@bob:example.org", "displayname": ["B"]}], "total": 1})";
    expected = "users[0].displayname is an array, expected a string";
  }
  SECTION("a next_token of the wrong type") {
    body = R"({"users": [], "total": 0, "next_token": {"from": 1}})";
    expected = "next_token is an object, expected a string";
  }
  // The pages of the list, not the probe's one-user request (below).
  Synapse server([&](const ScriptedRequest& request) -> std::optional<ScriptedReply> {
    if (request.target.rfind("/_synapse/admin/v2/users?deactivated", 0) == 0) {
      return ScriptedReply::text(200, body);
    }
    return std::nullopt;
  });
  CHECK(observe_error(server) == "cannot list accounts: GET " + k_users_list + ": malformed answer: " + expected);
}

TEST_CASE("http answers: the probe's one-user request is checked too", "[http][answers]") {
  Synapse server(replace("/_synapse/admin/v2/users", ScriptedReply::text(200, "")));
  adapters::HttpHomeserver homeserver(settings_for(server), "token", quick());
  auto caps = homeserver.probe();
  REQUIRE_FALSE(caps);
  CHECK(caps.error().message == "provisioning is synapse-admin but the Synapse admin API failed to list users: "
                                "GET /_synapse/admin/v2/users?limit=1: malformed answer: the body is empty, "
                                "expected an object");
}

TEST_CASE("http answers: a user list that leads back to a page already read is an error, not a loop",
          "[http][answers]") {
  Synapse server([](const ScriptedRequest& request) -> std::optional<ScriptedReply> {
    if (request.target.rfind("/_synapse/admin/v2/users?deactivated", 0) == 0) {
      return ScriptedReply::json(200, {{"users", nlohmann::json::array()}, {"total", 9}, {"next_token", "0"}});
    }
    return std::nullopt;
  });
  CHECK(observe_error(server) == "cannot list accounts: GET " + k_users_list +
                                     ": malformed answer: next_token 0 leads back to a page already read");
}

TEST_CASE("http answers: the probe's answers are checked", "[http][answers]") {
  SECTION("whoami answers an empty 200: the token is not blamed") {
    Synapse server(replace("/_matrix/client/v3/account/whoami", ScriptedReply::text(200, "")));
    adapters::HttpHomeserver homeserver(settings_for(server), "token", quick());
    auto caps = homeserver.probe();
    REQUIRE_FALSE(caps);
    CHECK(caps.error().message == "cannot check the access token (whoami): GET /_matrix/client/v3/account/whoami: "
                                  "malformed answer: the body is empty, expected an object");
  }
  SECTION("whoami's user_id is not a string") {
    Synapse server(replace("/_matrix/client/v3/account/whoami", ScriptedReply::json(200, {{"user_id", 12}})));
    adapters::HttpHomeserver homeserver(settings_for(server), "token", quick());
    auto caps = homeserver.probe();
    REQUIRE_FALSE(caps);
    CHECK(caps.error().message == "cannot check the access token (whoami): GET /_matrix/client/v3/account/whoami: "
                                  "malformed answer: user_id is an integer, expected a string");
  }
  SECTION("versions without its list: not a Matrix homeserver") {
    Synapse server(replace("/_matrix/client/versions", ScriptedReply::text(200, "<html>hello</html>")));
    adapters::HttpHomeserver homeserver(settings_for(server), "token", quick());
    auto caps = homeserver.probe();
    REQUIRE_FALSE(caps);
    CHECK(caps.error().message == "the server at " + server.url() +
                                      " does not answer as a Matrix homeserver: GET /_matrix/client/versions: the "
                                      "homeserver answered with invalid JSON");
  }
  SECTION("versions lists something that is not a version") {
    Synapse server(replace("/_matrix/client/versions", ScriptedReply::json(200, {{"versions", {"v1.11", 3}}})));
    adapters::HttpHomeserver homeserver(settings_for(server), "token", quick());
    auto caps = homeserver.probe();
    REQUIRE_FALSE(caps);
    CHECK(caps.error().message == "the server at " + server.url() +
                                      " does not answer as a Matrix homeserver: GET /_matrix/client/versions: "
                                      "malformed answer: versions[1] is an integer, expected a string");
  }
}

TEST_CASE("http answers: /sync answers are checked before anything is read from them", "[http][answers]") {
  // A /sync answer whose only joined room has `entry` as its entry.
  auto with_room = [](const nlohmann::json& entry) {
    nlohmann::json join = nlohmann::json::object();
    join["!a:example.org"] = entry;
    nlohmann::json sync = {{"next_batch", "s1"}};
    sync["rooms"]["join"] = join;
    return sync;
  };
  nlohmann::json sync;
  std::string expected;
  SECTION("an empty 200") {
    sync = nullptr;
    expected = "the body is empty, expected an object";
  }
  SECTION("no next_batch") {
    sync = with_room(nlohmann::json::object());
    sync.erase("next_batch");
    expected = "next_batch is missing (expected a string)";
  }
  SECTION("rooms.join of the wrong type") {
    sync = {{"next_batch", "s1"}};
    sync["rooms"]["join"] = nlohmann::json::array({1, 2});
    expected = "rooms.join is an array, expected an object";
  }
  SECTION("a joined room whose state events are not a list") {
    nlohmann::json entry;
    entry["state"]["events"] = {{"type", "m.room.name"}};
    sync = with_room(entry);
    expected = "rooms.join[\"!a:example.org\"].state.events is an object, expected an array";
  }
  SECTION("a state event without a state_key") {
    nlohmann::json entry;
    entry["state"]["events"] = nlohmann::json::array(
        {{{"type", "m.room.name"}, {"sender", k_bot}, {"content", {{"name", "A"}}}}});
    sync = with_room(entry);
    expected = "rooms.join[\"!a:example.org\"].state.events[0].state_key is missing (expected a string)";
  }
  SECTION("a timeline event whose state_key is not a string, after one without") {
    nlohmann::json entry;
    entry["timeline"]["events"] = nlohmann::json::array(
        {{{"type", "m.room.message"}, {"sender", k_bot}, {"content", {{"body", "hi"}}}, {"state_key", nullptr}},
         {{"type", "m.room.name"}, {"sender", k_bot}, {"content", {{"name", "A"}}}, {"state_key", 5}}});
    sync = with_room(entry);
    expected = "rooms.join[\"!a:example.org\"].timeline.events[1].state_key is an integer, expected a string";
  }
  SECTION("a state event whose content is not an object, after a good one") {
    nlohmann::json entry;
    entry["state"]["events"] = nlohmann::json::array(
        {{{"type", "m.room.name"}, {"sender", k_bot}, {"content", {{"name", "A"}}}, {"state_key", ""}},
         {{"type", "m.room.topic"}, {"sender", k_bot}, {"content", "t"}, {"state_key", ""}}});
    sync = with_room(entry);
    expected = "rooms.join[\"!a:example.org\"].state.events[1].content is a string, expected an object";
  }
  SECTION("a timeline without its events") {
    nlohmann::json entry;
    entry["timeline"]["limited"] = true;
    sync = with_room(entry);
    expected = "rooms.join[\"!a:example.org\"].timeline.events is missing (expected an array)";
  }
  Synapse server(replace(k_sync, sync.is_null() ? ScriptedReply::text(200, "") : ScriptedReply::json(200, sync)));
  const std::string message = observe_error(server);
  CHECK(message.rfind("cannot read the bot's rooms (/sync): GET " + k_sync + "?timeout=0&filter=", 0) == 0);
  CHECK(message.substr(message.find(": malformed answer: ") + 20) == expected);
}

TEST_CASE("http answers: each way the admin user list can fail is said as it is", "[http][answers][probe]") {
  ScriptedReply reply = ScriptedReply::text(200, "");
  std::string context;
  std::string cause;
  model::Error::Kind kind = model::Error::Kind::transient;
  SECTION("401: the token") {
    reply = ScriptedReply::json(401, {{"errcode", "M_UNKNOWN_TOKEN"}, {"error", "Invalid access token passed."}});
    context = "Synapse 1.67.0's user admin API did not accept the bot's access token";
    cause = "HTTP 401 M_UNKNOWN_TOKEN: Invalid access token passed.";
    kind = model::Error::Kind::forbidden;
  }
  SECTION("403: not a server admin") {
    reply = ScriptedReply::json(403, {{"errcode", "M_FORBIDDEN"}, {"error", "You are not a server admin"}});
    context = k_bot + " is not a server admin on Synapse 1.67.0";
    cause = "HTTP 403 M_FORBIDDEN: You are not a server admin";
    kind = model::Error::Kind::forbidden;
  }
  SECTION("404: no such API") {
    reply = ScriptedReply::json(404, {{"errcode", "M_UNRECOGNIZED"}, {"error", "Unrecognized request"}});
    context = "Synapse 1.67.0 has no user admin API at /_synapse/admin/v2/users (a proxy may hide it)";
    cause = "HTTP 404 M_UNRECOGNIZED: Unrecognized request";
    kind = model::Error::Kind::not_found;
  }
  SECTION("500: the server failed") {
    reply = ScriptedReply::json(500, {{"errcode", "M_UNKNOWN"}, {"error", "Internal server error"}});
    context = "the Synapse admin API failed to list users";
    cause = "HTTP 500 M_UNKNOWN: Internal server error";
  }
  SECTION("502 from a proxy, not JSON") {
    reply = ScriptedReply::text(502, "<html>Bad Gateway</html>");
    context = "the Synapse admin API failed to list users";
    cause = "HTTP 502";
  }
  SECTION("the connection dropped") {
    reply = ScriptedReply().close();
    context = "the Synapse admin API failed to list users";
    cause = "connection to 127.0.0.1:<port> dropped while reading the answer";
  }
  SECTION("no answer") {
    reply = ScriptedReply::hang();
    context = "the Synapse admin API failed to list users";
    cause = "no answer from 127.0.0.1:<port> within 500 ms (readTimeoutSeconds)";
  }
  Synapse server(replace("/_synapse/admin/v2/users", reply));
  adapters::ClientOptions options = quick();
  options.read_timeout = std::chrono::milliseconds(500);
  adapters::HttpHomeserver homeserver(settings_for(server), "token", options);
  auto caps = homeserver.probe();
  REQUIRE_FALSE(caps);
  const std::string port = server.url().substr(server.url().rfind(':') + 1);
  if (auto at = cause.find("<port>"); at != std::string::npos) {
    cause.replace(at, 6, port);
  }
  CHECK(caps.error().message ==
        "provisioning is synapse-admin but " + context + ": GET /_synapse/admin/v2/users?limit=1: " + cause);
  CHECK(caps.error().kind == kind);
}

TEST_CASE("http answers: a whoami that does not come blames the server, not the token", "[http][answers][probe]") {
  Synapse server(replace("/_matrix/client/v3/account/whoami", ScriptedReply::hang()));
  adapters::ClientOptions options = quick();
  options.read_timeout = std::chrono::milliseconds(500);
  adapters::HttpHomeserver homeserver(settings_for(server), "token", options);
  auto caps = homeserver.probe();
  REQUIRE_FALSE(caps);
  CHECK(caps.error().message == "cannot check the access token (whoami): GET /_matrix/client/v3/account/whoami: "
                                "no answer from " + server.url().substr(7) + " within 500 ms (readTimeoutSeconds)");
}

TEST_CASE("http answers: odd event content is what someone wrote: read leniently, never thrown over",
          "[http][answers]") {
  auto event = [](const std::string& type, const std::string& state_key, nlohmann::json content) {
    return nlohmann::json{{"type", type},       {"state_key", state_key}, {"sender", k_bot},
                          {"content", content}, {"event_id", "$" + type}, {"origin_server_ts", 1}};
  };
  nlohmann::json entry;
  entry["state"]["events"] = nlohmann::json::array(
      {event("m.room.create", "", {{"room_version", "10"}}), event("m.room.member", k_bot, {{"membership", "join"}}),
       event("org.mxctl.managed", "", {{"key", "a"}, {"instance", "default"}}),
       event("m.room.join_rules", "", {{"join_rule", "restricted"}, {"allow", {{{"type", 5}, {"room_id", 7}}}}}),
       event("m.space.parent", "!p:example.org", {{"via", {1}}, {"canonical", "yes"}}),
       event("m.space.child", "!c:example.org", {{"via", {"example.org", 2}}}),
       event("m.room.power_levels", "", {{"users", {{k_bot, "lots"}}}, {"ban", {1}}})});
  nlohmann::json sync = {{"next_batch", "s1"}};
  sync["rooms"]["join"]["!a:example.org"] = entry;
  Synapse server(replace(k_sync, ScriptedReply::json(200, sync)));
  adapters::HttpHomeserver homeserver(settings_for(server), "token", quick());
  REQUIRE(homeserver.probe());
  model::MatrixState desired;
  desired.rooms["a"].key = "a";
  desired.rooms["a"].alias = "#mxctl.a:example.org";
  auto observed = homeserver.observe(desired, {});
  REQUIRE(observed);
  const model::Room& room = observed->state.rooms.at("a").room;
  CHECK(room.allow_spaces.empty());
  CHECK_FALSE(room.parent);  // no server to reach it by
  REQUIRE(room.children.size() == 1);
  CHECK(room.children[0].via == std::vector<std::string>{"example.org"});
}

TEST_CASE("http answers: a write's answer must carry what the spec says it returns", "[http][answers]") {
  ScriptedReply reply = ScriptedReply::text(200, "");
  std::string cause;
  SECTION("createRoom answered with an empty 200") {
    cause = "the body is empty, expected an object";
  }
  SECTION("createRoom answered without a room id") {
    reply = ScriptedReply::json(200, {{"room_alias", "#mxctl.a:example.org"}});
    cause = "room_id is missing (expected a string)";
  }
  Synapse server(replace("/_matrix/client/v3/createRoom", reply));
  adapters::HttpHomeserver homeserver(settings_for(server), "token", quick());
  model::MatrixState desired;
  model::Room& room = desired.rooms["a"];
  room.key = "a";
  room.alias = "#mxctl.a:example.org";
  room.name = "A";
  model::Operation create;
  create.kind = model::Operation::Kind::create_room;
  create.room_key = "a";
  auto created = homeserver.execute(create, {&desired, {}});
  REQUIRE_FALSE(created);
  CHECK(created.error().message ==
        "create room a: POST /_matrix/client/v3/createRoom: malformed answer: " + cause);
}

}  // namespace http_answers_test
