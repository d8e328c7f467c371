// mxsim checked against the Matrix spec's own schemas over real HTTP: what
// mxctl sends (login, createRoom, state writes, /sync) and everything the
// simulator answers must be valid per data/api and data/event-schemas. A
// failure here is a simulator (or request) bug, named by JSON pointer.

#include <catch2/catch.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <cctype>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "mxsim/homeserver.h"
#include "mxsim/server.h"
#include "tests/support/spec_schema.h"

namespace spec_conformance_test {

namespace {

using nlohmann::json;
using Errors = std::vector<std::string>;

const std::string k_v3 = "/_matrix/client/v3";
const std::string k_server_name = "example.org";

// Percent-encodes one path segment: room ids, event types and state keys
// carry '!', ':', '@' and '$'.
std::string segment(const std::string& text) {
  static const char* k_hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : text) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      out += static_cast<char>(ch);
    } else {
      out += '%';
      out += k_hex[ch >> 4];
      out += k_hex[ch & 15];
    }
  }
  return out;
}

// Every violation is listed with the offending document, so a failure reads
// as a bug report against the simulator.
void check_conforms(const json& instance, const spec::SchemaRef& schema, const std::string& what) {
  INFO(what << ":\n" << instance.dump(2));
  CHECK(spec::validate(instance, schema) == Errors{});
}

// The schema of one event type's `content`, for checking request bodies.
spec::SchemaRef content_schema(const std::string& event_type) {
  return spec::schema_at(std::filesystem::path("event-schemas") / "schema" / (event_type + ".yaml"),
                         "/properties/content");
}

bool has_event_schema(const std::string& event_type) {
  return std::filesystem::exists(spec::data_dir() / "event-schemas" / "schema" / (event_type + ".yaml"));
}

struct Reply {
  int status = 0;
  json body;
};

// A simulator on an ephemeral port with an admin bot (as mxctl runs) and a
// plain user, plus a small HTTP client that speaks JSON.
class Sim {
 public:
  Sim() : m_server(make_options()) {
    m_server.start();
    m_client = std::make_unique<httplib::Client>("127.0.0.1", m_server.port());
    m_client->set_read_timeout(10, 0);
    bot = m_server.homeserver().add_user("mxctl", "bot-password", true);
    bot_token = m_server.homeserver().issue_token(bot);
    bob = m_server.homeserver().add_user("bob", "bob-password", false);
    bob_token = m_server.homeserver().issue_token(bob);
  }
  ~Sim() { m_server.stop(); }
  Sim(const Sim&) = delete;
  Sim& operator=(const Sim&) = delete;

  /// Sends `method` to `path`; `body` is sent as JSON unless null. Fails the
  /// test (REQUIRE) when there is no HTTP answer or it is not JSON.
  Reply call(const std::string& method, const std::string& path, const json& body = nullptr,
             const std::string& token = "") {
    httplib::Headers headers;
    if (!token.empty()) {
      headers.emplace("Authorization", "Bearer " + token);
    }
    std::string text = body.is_null() ? "" : body.dump();
    httplib::Result result = method == "GET"    ? m_client->Get(path, headers)
                             : method == "POST" ? m_client->Post(path, headers, text, "application/json")
                                                : m_client->Put(path, headers, text, "application/json");
    INFO(method << " " << path);
    REQUIRE(result);
    Reply reply;
    reply.status = result->status;
    INFO("status " << result->status << " body " << result->body);
    REQUIRE_NOTHROW(reply.body = json::parse(result->body));
    return reply;
  }

  std::string bot;
  std::string bot_token;
  std::string bob;
  std::string bob_token;

 private:
  static mxsim::ServerOptions make_options() {
    mxsim::ServerOptions options;
    options.server_name = k_server_name;
    options.host = "127.0.0.1";
    options.port = 0;
    return options;
  }

  mxsim::Server m_server;
  std::unique_ptr<httplib::Client> m_client;
};

// The marker mxctl puts in every room it manages (settings.marker_event_type).
json marker(const std::string& key) {
  return {{"type", "org.mxctl.managed"}, {"state_key", ""}, {"content", {{"key", key}, {"instance", "default"}}}};
}

// Power levels as mxctl overrides them: the bot at 100, Synapse's defaults made explicit.
json power_levels(const std::string& bot) {
  return {{"users", {{bot, 100}}},
          {"users_default", 0},
          {"events", {{"m.room.name", 50}, {"m.room.power_levels", 100}, {"org.mxctl.managed", 100}}},
          {"events_default", 0},
          {"state_default", 50},
          {"ban", 50},
          {"kick", 50},
          {"redact", 50},
          {"invite", 0},
          {"notifications", {{"room", 50}}}};
}

// Checks a createRoom body against the spec, including each initial_state
// content against its event type's content schema, then sends it.
std::string create_room(Sim& sim, const json& body) {
  check_conforms(body, spec::request_schema("client-server/create_room.yaml", "/createRoom", "post"),
                 "createRoom request");
  for (const json& event : body.value("initial_state", json::array())) {
    if (has_event_schema(event["type"])) {
      check_conforms(event["content"], content_schema(event["type"]), "initial_state " + event["type"].dump());
    }
  }
  Reply reply = sim.call("POST", k_v3 + "/createRoom", body, sim.bot_token);
  REQUIRE(reply.status == 200);
  check_conforms(reply.body, spec::response_schema("client-server/create_room.yaml", "/createRoom", "post", 200),
                 "createRoom response");
  return reply.body.at("room_id");
}

// A space and a restricted, encrypted child room in it, created the way
// mxctl creates them, with the child linked from the space.
struct Community {
  std::string space_id;
  std::string room_id;
};

Community create_community(Sim& sim) {
  Community out;
  out.space_id = create_room(sim, {{"name", "Riverside"},
                                   {"topic", "The Riverside community"},
                                   {"preset", "private_chat"},
                                   {"visibility", "private"},
                                   {"room_alias_name", "riverside"},
                                   {"creation_content", {{"type", "m.space"}}},
                                   {"initial_state", json::array({marker("community/riverside")})},
                                   {"power_level_content_override", power_levels(sim.bot)},
                                   {"invite", json::array({sim.bob})},
                                   {"room_version", "10"}});
  json initial_state = json::array(
      {marker("community/riverside/general"),
       {{"type", "m.room.join_rules"},
        {"state_key", ""},
        {"content",
         {{"join_rule", "restricted"},
          {"allow", json::array({{{"type", "m.room_membership"}, {"room_id", out.space_id}}})}}}},
       {{"type", "m.room.history_visibility"}, {"state_key", ""}, {"content", {{"history_visibility", "shared"}}}},
       {{"type", "m.room.encryption"}, {"state_key", ""}, {"content", {{"algorithm", "m.megolm.v1.aes-sha2"}}}},
       {{"type", "m.space.parent"},
        {"state_key", out.space_id},
        {"content", {{"via", json::array({k_server_name})}, {"canonical", true}}}}});
  out.room_id = create_room(sim, {{"name", "General"},
                                  {"topic", "Everything else"},
                                  {"preset", "private_chat"},
                                  {"visibility", "private"},
                                  {"room_alias_name", "riverside-general"},
                                  {"creation_content", json::object()},
                                  {"initial_state", initial_state},
                                  {"power_level_content_override", power_levels(sim.bot)},
                                  {"invite", json::array({sim.bob})},
                                  {"room_version", "10"}});
  json child = {{"via", json::array({k_server_name})}, {"suggested", false}};
  check_conforms(child, content_schema("m.space.child"), "m.space.child content");
  Reply reply = sim.call("PUT",
                         k_v3 + "/rooms/" + segment(out.space_id) + "/state/m.space.child/" + segment(out.room_id),
                         child, sim.bot_token);
  REQUIRE(reply.status == 200);
  check_conforms(reply.body,
                 spec::response_schema("client-server/room_state.yaml", "/rooms/{roomId}/state/{eventType}/{stateKey}",
                                       "put", 200),
                 "PUT state response");
  return out;
}

// GET /rooms/{id}/state, checked as a whole and event by event; returns the
// events keyed by "type|state_key".
std::map<std::string, json> room_state(Sim& sim, const std::string& room_id) {
  Reply reply = sim.call("GET", k_v3 + "/rooms/" + segment(room_id) + "/state", nullptr, sim.bot_token);
  REQUIRE(reply.status == 200);
  check_conforms(reply.body, spec::response_schema("client-server/rooms.yaml", "/rooms/{roomId}/state", "get", 200),
                 "GET state response");
  std::map<std::string, json> by_key;
  for (const json& event : reply.body) {
    std::string type = event.value("type", "");
    if (has_event_schema(type)) {
      check_conforms(event, spec::event_schema(type), type + " event from GET state");
    }
    by_key[type + "|" + event.value("state_key", "")] = event;
  }
  return by_key;
}

// Checks a /sync answer against sync.yaml, and each room event in it against
// its event schema once given back the room_id that /sync leaves implied.
void check_sync(const json& body, const std::string& what) {
  check_conforms(body, spec::response_schema("client-server/sync.yaml", "/sync", "get", 200), what);
  if (!body.contains("rooms") || !body["rooms"].contains("join")) {
    return;
  }
  for (const auto& [room_id, joined] : body["rooms"]["join"].items()) {
    for (const char* section : {"state", "timeline"}) {
      for (json event : joined.value(section, json::object()).value("events", json::array())) {
        std::string type = event.value("type", "");
        if (has_event_schema(type)) {
          event["room_id"] = room_id;
          check_conforms(event, spec::event_schema(type), what + " " + section + " " + type);
        }
      }
    }
  }
}

// mxctl's observation filter (adapters/homeserver/http_homeserver.cc sync_filter()).
std::string mxctl_filter() {
  json filter = {{"presence", {{"not_types", {"*"}}}},
                 {"account_data", {{"not_types", {"*"}}}},
                 {"room",
                  {{"timeline", {{"limit", 0}}},
                   {"ephemeral", {{"not_types", {"*"}}}},
                   {"account_data", {{"not_types", {"*"}}}},
                   {"state", {{"lazy_load_members", false}}}}}};
  return segment(filter.dump());
}

// Sends a request whose body is first checked against the operation's request
// schema, and checks the answer against the schema for its expected status.
Reply exchange(Sim& sim, const std::string& method, const std::string& url, const json& body, const std::string& token,
               const std::string& api_file, const std::string& spec_path, int expected_status) {
  std::string spec_method = method == "GET" ? "get" : method == "POST" ? "post" : "put";
  if (!body.is_null()) {
    check_conforms(body, spec::request_schema(api_file, spec_path, spec_method), spec_method + " " + spec_path);
  }
  Reply reply = sim.call(method, url, body, token);
  INFO(method << " " << url << " -> " << reply.status << " " << reply.body.dump());
  REQUIRE(reply.status == expected_status);
  check_conforms(reply.body, spec::response_schema(api_file, spec_path, spec_method, expected_status),
                 spec_method + " " + spec_path + " " + std::to_string(expected_status) + " response");
  return reply;
}

}  // namespace

TEST_CASE("spec conformance: GET /login and password login", "[mxsim][spec]") {
  Sim sim;
  const std::string file = "client-server/login.yaml";
  Reply flows = sim.call("GET", k_v3 + "/login");
  REQUIRE(flows.status == 200);
  check_conforms(flows.body, spec::response_schema(file, "/login", "get", 200), "GET /login response");
  CHECK(flows.body.dump().find("m.login.password") != std::string::npos);

  json by_identifier = {{"type", "m.login.password"},
                        {"identifier", {{"type", "m.id.user"}, {"user", "bob"}}},
                        {"password", "bob-password"},
                        {"initial_device_display_name", "mxctl"}};
  json by_user_field = {{"type", "m.login.password"}, {"user", sim.bob}, {"password", "bob-password"}};
  for (const json& request : {by_identifier, by_user_field}) {
    check_conforms(request, spec::request_schema(file, "/login", "post"), "login request");
    Reply login = sim.call("POST", k_v3 + "/login", request);
    REQUIRE(login.status == 200);
    check_conforms(login.body, spec::response_schema(file, "/login", "post", 200), "login response");
    CHECK(login.body.value("user_id", "") == sim.bob);
  }

  json wrong = by_identifier;
  wrong["password"] = "nope";
  Reply refused = sim.call("POST", k_v3 + "/login", wrong);
  CHECK(refused.status == 403);
  check_conforms(refused.body, spec::response_schema(file, "/login", "post", 403), "login 403 response");
  CHECK(refused.body.value("errcode", "") == "M_FORBIDDEN");
}

TEST_CASE("spec conformance: createRoom as mxctl sends it and every state event the rooms hold",
          "[mxsim][spec]") {
  Sim sim;
  Community community = create_community(sim);

  std::map<std::string, json> space = room_state(sim, community.space_id);
  std::map<std::string, json> room = room_state(sim, community.room_id);
  for (const char* key : {"m.room.create|", "m.room.power_levels|", "m.room.join_rules|", "m.room.name|",
                          "m.room.topic|", "m.room.canonical_alias|", "org.mxctl.managed|"}) {
    CHECK(space.count(key) == 1);
    CHECK(room.count(key) == 1);
  }
  CHECK(space.count("m.room.member|" + sim.bot) == 1);
  CHECK(space.count("m.room.member|" + sim.bob) == 1);
  CHECK(space.count("m.space.child|" + community.room_id) == 1);
  CHECK(room.count("m.room.encryption|") == 1);
  CHECK(room.count("m.space.parent|" + community.space_id) == 1);

  // Beyond the schema: m.room.create's prose makes `creator` required in room
  // versions 1-10, and room_version/type must reflect the request.
  const json& create = space["m.room.create|"]["content"];
  CHECK(create.value("creator", "") == sim.bot);
  CHECK(create.value("room_version", "") == "10");
  CHECK(create.value("type", "") == "m.space");
  CHECK(room["m.room.join_rules|"]["content"]["join_rule"] == "restricted");
  CHECK(room["m.room.power_levels|"]["content"]["users"][sim.bot] == 100);

  // Control: the same checks do reject a corrupted copy of a served event.
  json corrupted = room["m.room.power_levels|"];
  corrupted["content"]["users"][sim.bot] = "100";
  corrupted.erase("event_id");
  CHECK(spec::validate(corrupted, spec::event_schema("m.room.power_levels")) ==
        Errors{"/: missing required property \"event_id\"",
               "/content/users/" + sim.bot + ": expected integer, got string"});

  SECTION("a single state event read back is the content of the event in the state list") {
    Reply levels = sim.call("GET", k_v3 + "/rooms/" + segment(community.room_id) + "/state/m.room.power_levels/",
                            nullptr, sim.bot_token);
    REQUIRE(levels.status == 200);
    CHECK(levels.body == room["m.room.power_levels|"]["content"]);
    check_conforms(levels.body, content_schema("m.room.power_levels"), "GET state/m.room.power_levels");
  }
}

TEST_CASE("spec conformance: initial and incremental /sync", "[mxsim][spec]") {
  Sim sim;
  Community community = create_community(sim);

  Reply plain = sim.call("GET", k_v3 + "/sync?timeout=0", nullptr, sim.bot_token);
  REQUIRE(plain.status == 200);
  check_sync(plain.body, "initial /sync");
  REQUIRE(plain.body["rooms"]["join"].contains(community.room_id));

  Reply filtered = sim.call("GET", k_v3 + "/sync?timeout=0&filter=" + mxctl_filter(), nullptr, sim.bot_token);
  REQUIRE(filtered.status == 200);
  check_sync(filtered.body, "initial /sync with mxctl's filter");
  const json& filtered_room = filtered.body["rooms"]["join"][community.room_id];
  CHECK(filtered_room["timeline"]["events"].empty());
  CHECK(filtered_room["state"]["events"].size() >= 8);

  SECTION("incremental, after a change") {
    json topic = {{"topic", "Everything else, and more"}};
    check_conforms(topic, content_schema("m.room.topic"), "m.room.topic content");
    Reply put = sim.call("PUT", k_v3 + "/rooms/" + segment(community.room_id) + "/state/m.room.topic/", topic,
                         sim.bot_token);
    REQUIRE(put.status == 200);
    std::string since = plain.body.at("next_batch");
    Reply next = sim.call("GET", k_v3 + "/sync?timeout=0&since=" + segment(since), nullptr, sim.bot_token);
    REQUIRE(next.status == 200);
    check_sync(next.body, "incremental /sync");
    CHECK(next.body.dump().find("Everything else, and more") != std::string::npos);

    Reply quiet = sim.call("GET", k_v3 + "/sync?timeout=0&since=" + segment(next.body.at("next_batch")), nullptr,
                           sim.bot_token);
    REQUIRE(quiet.status == 200);
    check_sync(quiet.body, "incremental /sync with nothing new");
  }
  SECTION("an invitee sees both rooms under rooms.invite with stripped state") {
    Reply invited = sim.call("GET", k_v3 + "/sync?timeout=0", nullptr, sim.bob_token);
    REQUIRE(invited.status == 200);
    check_sync(invited.body, "invitee's /sync");
    CHECK(invited.body["rooms"]["invite"].contains(community.space_id));
    CHECK(invited.body["rooms"]["invite"].contains(community.room_id));
  }
}

TEST_CASE("spec conformance: the other client endpoints mxctl calls and their errors", "[mxsim][spec]") {
  Sim sim;
  Community community = create_community(sim);
  const std::string room = k_v3 + "/rooms/" + segment(community.room_id);

  Reply versions = sim.call("GET", "/_matrix/client/versions");
  REQUIRE(versions.status == 200);
  check_conforms(versions.body, spec::response_schema("client-server/versions.yaml", "/versions", "get", 200),
                 "versions");
  exchange(sim, "GET", k_v3 + "/account/whoami", nullptr, sim.bot_token, "client-server/whoami.yaml",
           "/account/whoami", 200);

  const std::string alias_path = "/directory/room/{roomAlias}";
  Reply alias = exchange(sim, "GET", k_v3 + "/directory/room/" + segment("#riverside:" + k_server_name), nullptr,
                         sim.bot_token, "client-server/directory.yaml", alias_path, 200);
  CHECK(alias.body.value("room_id", "") == community.space_id);
  exchange(sim, "GET", k_v3 + "/directory/room/" + segment("#nowhere:" + k_server_name), nullptr, sim.bot_token,
           "client-server/directory.yaml", alias_path, 404);

  // Bob, invited at creation, joins the space and then the restricted room
  // through it; his member event must still match m.room.member.
  exchange(sim, "POST", k_v3 + "/rooms/" + segment(community.space_id) + "/join", json::object(), sim.bob_token,
           "client-server/joining.yaml", "/rooms/{roomId}/join", 200);
  exchange(sim, "POST", room + "/join", json::object(), sim.bob_token, "client-server/joining.yaml",
           "/rooms/{roomId}/join", 200);
  std::map<std::string, json> state = room_state(sim, community.room_id);
  CHECK(state["m.room.member|" + sim.bob]["content"]["membership"] == "join");

  // The path key in inviting.yaml really ends in a space.
  const std::string carol = "@carol:" + k_server_name;
  exchange(sim, "POST", room + "/invite", {{"user_id", carol}, {"reason", "welcome"}}, sim.bot_token,
           "client-server/inviting.yaml", "/rooms/{roomId}/invite ", 200);
  exchange(sim, "POST", room + "/kick", {{"user_id", sim.bob}, {"reason", "not in the manifest"}}, sim.bot_token,
           "client-server/kicking.yaml", "/rooms/{roomId}/kick", 200);

  json message = {{"msgtype", "m.notice"}, {"body", "mxctl applied a change"}};
  exchange(sim, "PUT", room + "/send/m.room.message/txn1", message, sim.bot_token, "client-server/room_send.yaml",
           "/rooms/{roomId}/send/{eventType}/{txnId}", 200);
  Reply messages = exchange(sim, "GET", room + "/messages?dir=b&limit=100", nullptr, sim.bot_token,
                            "client-server/message_pagination.yaml", "/rooms/{roomId}/messages", 200);
  for (const json& event : messages.body.value("chunk", json::array())) {
    std::string type = event.value("type", "");
    if (has_event_schema(type)) {
      check_conforms(event, spec::event_schema(type), type + " from /messages");
    }
  }

  SECTION("error answers") {
    const spec::SchemaRef error = spec::schema_at("api/client-server/definitions/errors/error.yaml");
    Reply taken = sim.call("POST", k_v3 + "/createRoom", {{"room_alias_name", "riverside"}}, sim.bot_token);
    CHECK(taken.status == 400);
    check_conforms(taken.body,
                   spec::response_schema("client-server/create_room.yaml", "/createRoom", "post", 400),
                   "createRoom with a taken alias");
    CHECK(taken.body.value("errcode", "") == "M_ROOM_IN_USE");

    Reply absent = sim.call("GET", room + "/state/m.room.avatar/", nullptr, sim.bot_token);
    CHECK(absent.status == 404);
    // rooms.yaml describes this 404 without a body schema: the standard error applies.
    check_conforms(absent.body, error, "GET absent state");
    CHECK(absent.body.value("errcode", "") == "M_NOT_FOUND");

    Reply anonymous = sim.call("GET", k_v3 + "/sync?timeout=0");
    CHECK(anonymous.status == 401);
    check_conforms(anonymous.body, error, "/sync without a token");
    CHECK(anonymous.body.value("errcode", "") == "M_MISSING_TOKEN");
  }
}

TEST_CASE("spec conformance: room upgrade answers, the tombstone and the new room's state", "[mxsim][spec]") {
  Sim sim;
  Community community = create_community(sim);
  const std::string file = "client-server/room_upgrades.yaml";
  const std::string path = "/rooms/{roomId}/upgrade";
  const std::string url = k_v3 + "/rooms/" + segment(community.room_id) + "/upgrade";

  Reply unsupported = exchange(sim, "POST", url, {{"new_version", "99"}}, sim.bot_token, file, path, 400);
  CHECK(unsupported.body.value("errcode", "") == "M_UNSUPPORTED_ROOM_VERSION");
  // Bob was only invited: he may not send the tombstone.
  Reply refused = exchange(sim, "POST", url, {{"new_version", "9"}}, sim.bob_token, file, path, 403);
  CHECK(refused.body.value("errcode", "") == "M_FORBIDDEN");
  // The spec lists no 404 here; Synapse answers one with the standard error.
  Reply unknown = sim.call("POST", k_v3 + "/rooms/" + segment("!nowhere:" + k_server_name) + "/upgrade",
                           {{"new_version", "9"}}, sim.bot_token);
  CHECK(unknown.status == 404);
  check_conforms(unknown.body, spec::schema_at("api/client-server/definitions/errors/error.yaml"), "unknown room");
  CHECK(unknown.body.value("errcode", "") == "M_NOT_FOUND");

  Reply upgraded = exchange(sim, "POST", url, {{"new_version", "9"}}, sim.bot_token, file, path, 200);
  std::string new_id = upgraded.body.at("replacement_room");
  std::map<std::string, json> old_state = room_state(sim, community.room_id);
  std::map<std::string, json> new_state = room_state(sim, new_id);
  REQUIRE(old_state.count("m.room.tombstone|") == 1);
  CHECK(old_state["m.room.tombstone|"]["content"]["replacement_room"] == new_id);
  const json& create = new_state["m.room.create|"]["content"];
  CHECK(create["predecessor"] == json({{"room_id", community.room_id},
                                       {"event_id", old_state["m.room.tombstone|"]["event_id"]}}));
  CHECK(create.value("room_version", "") == "9");
  CHECK(new_state["m.room.canonical_alias|"]["content"]["alias"] == "#riverside-general:" + k_server_name);
  CHECK(new_state.count("org.mxctl.managed|") == 0);

  Reply synced = sim.call("GET", k_v3 + "/sync?timeout=0", nullptr, sim.bot_token);
  REQUIRE(synced.status == 200);
  check_sync(synced.body, "/sync after an upgrade");
  CHECK(synced.body["rooms"]["join"].contains(new_id));
}

}  // namespace spec_conformance_test
