// HttpHomeserver against an in-process httplib::Server on 127.0.0.1 that
// answers like Synapse (the shapes a real Synapse 1.67 gave, and its admin API docs)
// and records every request, so the tests can compare the exact calls made.

#include <catch2/catch.hpp>

#include <httplib.h>

#include <functional>
#include <mutex>
#include <thread>

#include "adapters/homeserver/http_homeserver.h"
#include "model/compile.h"
#include "model/topology.h"
#include "tests/support/spec_schema.h"

namespace http_homeserver_test {

namespace {

const std::string k_bot = "@mxctl:example.org";

struct Request {
  std::string method;
  std::string path;  ///< decoded, without the query
  std::string user_id_param;
  nlohmann::json body;
};

struct Reply {
  int status = 200;
  nlohmann::json body = nlohmann::json::object();
};

Reply error(int status, const std::string& errcode, const std::string& message) {
  return {status, {{"errcode", errcode}, {"error", message}}};
}

// A homeserver double: `route` answers each request; unrouted requests get
// 404 M_UNRECOGNIZED like Synapse's unknown endpoints.
class FakeServer {
 public:
  using Route = std::function<std::optional<Reply>(const Request&)>;

  explicit FakeServer(Route route) : m_route(std::move(route)) {
    auto handler = [this](const httplib::Request& req, httplib::Response& res) {
      Request request{req.method, req.path, req.has_param("user_id") ? req.get_param_value("user_id") : "",
                      req.body.empty() ? nlohmann::json() : nlohmann::json::parse(req.body, nullptr, false)};
      {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_requests.push_back(request);
      }
      Reply reply = m_route(request).value_or(error(404, "M_UNRECOGNIZED", "Unrecognized request"));
      res.status = reply.status;
      res.set_content(reply.body.dump(), "application/json");
    };
    m_server.Get(".*", handler);
    m_server.Put(".*", handler);
    m_server.Post(".*", handler);
    m_server.Delete(".*", handler);
    m_port = m_server.bind_to_any_port("127.0.0.1");
    m_thread = std::thread([this] { m_server.listen_after_bind(); });
    while (!m_server.is_running()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  ~FakeServer() {
    m_server.stop();
    m_thread.join();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }

  /// "GET /path" for every request so far (with "?user_id=" when given).
  std::vector<std::string> calls() {
    std::lock_guard<std::mutex> lock(m_mutex);
    std::vector<std::string> out;
    for (const Request& request : m_requests) {
      out.push_back(request.method + " " + request.path +
                    (request.user_id_param.empty() ? "" : "?user_id=" + request.user_id_param));
    }
    return out;
  }

  std::vector<Request> requests() {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_requests;
  }

  void clear() {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_requests.clear();
  }

 private:
  Route m_route;
  httplib::Server m_server;
  std::thread m_thread;
  int m_port = 0;
  std::mutex m_mutex;
  std::vector<Request> m_requests;
};

model::Settings settings_for(const FakeServer& server, model::ProvisioningMode mode) {
  model::Settings settings;
  settings.homeserver_url = server.url();
  settings.server_name = "example.org";
  settings.bot_user_id = k_bot;
  settings.provisioning = mode;
  return settings;
}

adapters::ClientOptions quick() {
  adapters::ClientOptions options;
  options.read_attempts = 1;
  return options;
}

// The answers every probe needs: versions and whoami.
std::optional<Reply> basics(const Request& request, const std::string& whoami = k_bot) {
  if (request.path == "/_matrix/client/versions") {
    return Reply{200, {{"versions", {"v1.11", "v1.12"}}}};
  }
  if (request.path == "/_matrix/client/v3/account/whoami") {
    return Reply{200, {{"user_id", whoami}}};
  }
  return std::nullopt;
}

const std::string k_override_path = "/_synapse/admin/v1/users/" + k_bot + "/override_ratelimit";

}  // namespace

TEST_CASE("http homeserver: probe on Synapse with admin rights reads the bot's rate-limit override", "[http]") {
  nlohmann::json override_body;
  SECTION("no override") { override_body = nlohmann::json::object(); }
  SECTION("an override of 0 exempts the bot") { override_body = {{"messages_per_second", 0}, {"burst_count", 0}}; }
  SECTION("a non-zero override still limits") { override_body = {{"messages_per_second", 2}, {"burst_count", 20}}; }
  FakeServer server([&](const Request& request) -> std::optional<Reply> {
    if (auto reply = basics(request)) {
      return reply;
    }
    if (request.path == "/_synapse/admin/v1/server_version") {
      return Reply{200, {{"server_version", "1.120.0"}}};
    }
    if (request.path == "/_synapse/admin/v2/users") {
      return Reply{200, {{"users", nlohmann::json::array()}, {"total", 0}}};
    }
    if (request.path == k_override_path) {
      return Reply{200, override_body};
    }
    return std::nullopt;
  });
  adapters::HttpHomeserver homeserver(settings_for(server, model::ProvisioningMode::synapse_admin), "secret",
                                      quick());
  auto caps = homeserver.probe();
  REQUIRE(caps);
  CHECK(caps->user_id == k_bot);
  CHECK(caps->synapse_version == "Synapse 1.120.0");
  CHECK(caps->server_admin);
  CHECK(server.calls() == std::vector<std::string>{"GET /_matrix/client/versions",
                                                   "GET /_matrix/client/v3/account/whoami",
                                                   "GET /_synapse/admin/v1/server_version",
                                                   "GET /_synapse/admin/v2/users", "GET " + k_override_path});
  const adapters::RateLimits& limits = homeserver.capabilities().rate_limits;
  if (override_body.empty()) {
    CHECK(limits.state == adapters::RateLimits::State::limited);
    CHECK_FALSE(limits.override_rate);
    CHECK(limits.description == "@mxctl:example.org has no rate-limit override on Synapse 1.120.0");
  } else if (override_body["messages_per_second"] == 0) {
    CHECK(limits.state == adapters::RateLimits::State::unlimited);
    CHECK(limits.description.empty());
  } else {
    CHECK(limits.state == adapters::RateLimits::State::limited);
    REQUIRE(limits.override_rate);
    CHECK(limits.override_rate->messages_per_second == 2);
    CHECK(limits.override_rate->burst_count == 20);
    CHECK(limits.description ==
          "@mxctl:example.org has a rate-limit override of 2 messages/s (burst 20) on Synapse 1.120.0");
  }
}

TEST_CASE("http homeserver: probe in appservice mode needs no admin API", "[http]") {
  SECTION("a homeserver without the Synapse admin API (Conduit, Tuwunel, Dendrite)") {
    FakeServer server([](const Request& request) { return basics(request); });
    model::Settings settings = settings_for(server, model::ProvisioningMode::appservice);
    adapters::HttpHomeserver homeserver(settings, "as_token", quick());
    auto caps = homeserver.probe();
    REQUIRE(caps);
    CHECK(caps->synapse_version.empty());
    CHECK_FALSE(caps->server_admin);
    CHECK(caps->rate_limits.state == adapters::RateLimits::State::unknown);

    settings.appservice_rate_limited = false;
    adapters::HttpHomeserver unlimited(settings, "as_token", quick());
    REQUIRE(unlimited.probe());
    CHECK(unlimited.capabilities().rate_limits.state == adapters::RateLimits::State::unlimited);

    settings.provisioning = model::ProvisioningMode::synapse_admin;
    adapters::HttpHomeserver admin(settings, "token", quick());
    auto refused = admin.probe();
    REQUIRE_FALSE(refused);
    CHECK(refused.error().kind == model::Error::Kind::forbidden);
    CHECK(refused.error().message ==
          "provisioning is synapse-admin but the homeserver has no Synapse admin API; use provisioning: appservice");
  }
  SECTION("Synapse, the sender not a server admin: rate-limited unless the registration says otherwise") {
    FakeServer server([](const Request& request) -> std::optional<Reply> {
      if (auto reply = basics(request)) {
        return reply;
      }
      if (request.path == "/_synapse/admin/v1/server_version") {
        return Reply{200, {{"server_version", "1.67.0"}}};
      }
      if (request.path.rfind("/_synapse/admin/", 0) == 0) {
        return error(403, "M_FORBIDDEN", "You are not a server admin");
      }
      return std::nullopt;
    });
    adapters::HttpHomeserver homeserver(settings_for(server, model::ProvisioningMode::appservice), "as_token",
                                        quick());
    auto caps = homeserver.probe();
    REQUIRE(caps);
    CHECK_FALSE(caps->server_admin);
    CHECK(caps->rate_limits.state == adapters::RateLimits::State::limited);
    CHECK(caps->rate_limits.description == "appservice sender @mxctl:example.org is rate-limited on Synapse 1.67.0 "
                                           "(its registration does not say rate_limited: false)");
  }
  SECTION("whoami names another user: the sender_localpart is the bot") {
    FakeServer server([](const Request& request) { return basics(request, "@bridge:example.org"); });
    adapters::HttpHomeserver homeserver(settings_for(server, model::ProvisioningMode::appservice), "as_token",
                                        quick());
    auto caps = homeserver.probe();
    REQUIRE_FALSE(caps);
    CHECK(caps.error().message ==
          "the access token belongs to @bridge:example.org, not to the configured bot @mxctl:example.org; with an "
          "appservice the bot is the registration's sender_localpart");
  }
  SECTION("an unknown as_token") {
    FakeServer server([](const Request& request) -> std::optional<Reply> {
      if (request.path == "/_matrix/client/v3/account/whoami") {
        return error(401, "M_UNKNOWN_TOKEN", "Invalid access token passed.");
      }
      return basics(request);
    });
    adapters::HttpHomeserver homeserver(settings_for(server, model::ProvisioningMode::appservice), "as_token",
                                        quick());
    auto caps = homeserver.probe();
    REQUIRE_FALSE(caps);
    CHECK(caps.error().message == "the appservice's as_token was not accepted (is the registration loaded by the "
                                  "homeserver?): GET /_matrix/client/v3/account/whoami: HTTP 401 M_UNKNOWN_TOKEN: "
                                  "Invalid access token passed.");
  }
}

namespace {

model::MatrixState one_account(std::optional<std::string> display_name, std::optional<std::string> avatar) {
  model::MatrixState desired;
  model::Account alice;
  alice.key = "alice";
  alice.localpart = "alice";
  alice.user_id = "@alice:example.org";
  alice.display_name = std::move(display_name);
  alice.avatar_url = std::move(avatar);
  desired.accounts["alice"] = alice;
  return desired;
}

model::Operation account_operation(model::Operation::Kind kind) {
  model::Operation op;
  op.kind = kind;
  op.account_key = "alice";
  op.user_id = "@alice:example.org";
  return op;
}

}  // namespace

TEST_CASE("http homeserver: appservice accounts are registered idempotently and profiles set by masquerading",
          "[http][appservice]") {
  bool exists = false;
  std::string displayname = "alice";  // what registration leaves
  FakeServer server([&](const Request& request) -> std::optional<Reply> {
    if (request.method == "POST" && request.path == "/_matrix/client/v3/register") {
      if (exists) {
        return error(400, "M_USER_IN_USE", "User ID already taken.");
      }
      exists = true;
      return Reply{200, {{"user_id", "@alice:example.org"}, {"home_server", "example.org"}}};
    }
    if (request.method == "GET" && request.path == "/_matrix/client/v3/profile/@alice:example.org") {
      return Reply{200, {{"displayname", displayname}}};
    }
    if (request.method == "PUT" && request.path == "/_matrix/client/v3/profile/@alice:example.org/displayname") {
      displayname = request.body.value("displayname", "");
      return Reply{200, nlohmann::json::object()};
    }
    if (request.method == "PUT" && request.path == "/_matrix/client/v3/profile/@alice:example.org/avatar_url") {
      return Reply{200, nlohmann::json::object()};
    }
    return std::nullopt;
  });
  adapters::HttpHomeserver homeserver(settings_for(server, model::ProvisioningMode::appservice), "as_token", quick());
  model::MatrixState desired = one_account("Alice Moreau", std::nullopt);
  adapters::ExecutionContext context{&desired, {}};

  auto first = homeserver.execute(account_operation(model::Operation::Kind::create_account), context);
  REQUIRE(first);
  CHECK(server.calls() == std::vector<std::string>{
                              "POST /_matrix/client/v3/register",
                              "GET /_matrix/client/v3/profile/@alice:example.org",
                              "PUT /_matrix/client/v3/profile/@alice:example.org/displayname?user_id=@alice:example.org",
                          });
  auto requests = server.requests();
  CHECK(requests[0].body == nlohmann::json{{"type", "m.login.application_service"},
                                           {"username", "alice"},
                                           {"inhibit_login", true}});
  CHECK(requests[2].body == nlohmann::json{{"displayname", "Alice Moreau"}});
  CHECK(displayname == "Alice Moreau");

  // A repeat (after a timeout, or a crash before the store was written):
  // M_USER_IN_USE is success, and the profile already matches.
  server.clear();
  auto again = homeserver.execute(account_operation(model::Operation::Kind::create_account), context);
  REQUIRE(again);
  CHECK(server.calls() == std::vector<std::string>{"POST /_matrix/client/v3/register",
                                                   "GET /_matrix/client/v3/profile/@alice:example.org"});
}

TEST_CASE("http homeserver: appservice registration errors name the account, the errcode and a hint",
          "[http][appservice]") {
  FakeServer server([](const Request& request) -> std::optional<Reply> {
    if (request.path == "/_matrix/client/v3/register") {
      return error(400, "M_EXCLUSIVE", "Invalid user localpart for this application service.");
    }
    return std::nullopt;
  });
  adapters::HttpHomeserver homeserver(settings_for(server, model::ProvisioningMode::appservice), "as_token", quick());
  model::MatrixState desired = one_account("Alice", std::nullopt);
  auto result =
      homeserver.execute(account_operation(model::Operation::Kind::create_account), {&desired, {}});
  REQUIRE_FALSE(result);
  CHECK(result.error().kind == model::Error::Kind::invalid);
  CHECK(result.error().message ==
        "create account alice (@alice:example.org): POST /_matrix/client/v3/register: HTTP 400 M_EXCLUSIVE: Invalid "
        "user localpart for this application service. (the account is outside the appservice's user namespace, or "
        "another appservice reserves it)");
}

TEST_CASE("http homeserver: appservice observation reads one profile per desired account", "[http][appservice]") {
  FakeServer server([](const Request& request) -> std::optional<Reply> {
    if (request.path == "/_matrix/client/v3/profile/@alice:example.org") {
      return Reply{200, {{"displayname", "Alice"}, {"avatar_url", "mxc://example.org/a"}}};
    }
    if (request.path.rfind("/_matrix/client/v3/profile/", 0) == 0) {
      return error(404, "M_NOT_FOUND", "Profile was not found");
    }
    if (request.path == "/_matrix/client/v3/sync") {
      // What Synapse answers an appservice's sender.
      return error(500, "M_UNKNOWN", "Internal server error");
    }
    return std::nullopt;
  });
  adapters::HttpHomeserver homeserver(settings_for(server, model::ProvisioningMode::appservice), "as_token", quick());
  model::MatrixState desired = one_account("Alice", std::nullopt);
  desired.accounts["alice"].admin = true;
  model::Account bob = desired.accounts["alice"];
  bob.key = "bob";
  bob.localpart = "bob";
  bob.user_id = "@bob:example.org";
  desired.accounts["bob"] = bob;

  auto observed = homeserver.observe(desired, {});
  REQUIRE(observed);
  // No rooms desired or known: nothing else is read (never /sync).
  CHECK(server.calls() == std::vector<std::string>{"GET /_matrix/client/v3/profile/@alice:example.org",
                                                   "GET /_matrix/client/v3/profile/@bob:example.org"});
  REQUIRE(observed->state.accounts.size() == 1);
  const model::Account& alice = observed->state.accounts.at("alice");
  CHECK(alice.display_name == std::optional<std::string>("Alice"));
  CHECK(alice.avatar_url == std::optional<std::string>("mxc://example.org/a"));
  // Not observable by an appservice: reported as desired, never planned.
  CHECK(alice.admin);
}

namespace {

model::Room room_with_version(const std::string& version) {
  model::Settings settings;
  settings.bot_user_id = k_bot;
  settings.server_name = "example.org";
  model::Room room;
  room.key = "council/disputes";
  room.alias = "#mxctl.council.disputes:example.org";
  room.name = "Disputes";
  room.room_version = version;
  room.power_levels = model::base_power_levels(model::PowerPolicy::ft17(), settings);
  room.power_levels.users["@alice:example.org"] = 50;
  return room;
}

}  // namespace

TEST_CASE("http homeserver: a room version 12 room is created without the bot in power levels users",
          "[http][v12]") {
  FakeServer server([](const Request& request) -> std::optional<Reply> {
    if (request.path == "/_matrix/client/v3/createRoom") {
      return Reply{200, {{"room_id", "!new:example.org"}}};
    }
    return std::nullopt;
  });
  adapters::HttpHomeserver homeserver(settings_for(server, model::ProvisioningMode::synapse_admin), "token", quick());
  std::string version;
  bool bot_listed = true;
  SECTION("12") {
    version = "12";
    bot_listed = false;
  }
  SECTION("a later numeric version") {
    version = "13";
    bot_listed = false;
  }
  SECTION("11 still lists the bot") { version = "11"; }
  model::MatrixState desired;
  desired.rooms["council/disputes"] = room_with_version(version);
  model::Operation create;
  create.kind = model::Operation::Kind::create_room;
  create.room_key = "council/disputes";
  auto created = homeserver.execute(create, {&desired, {}});
  REQUIRE(created);
  CHECK(created->room_id == std::optional<std::string>("!new:example.org"));
  auto requests = server.requests();
  REQUIRE(requests.size() == 1);
  const nlohmann::json& body = requests[0].body;
  CHECK(body["room_version"] == version);
  const nlohmann::json& users = body["power_level_content_override"]["users"];
  CHECK(users.contains(k_bot) == bot_listed);
  CHECK(users["@alice:example.org"] == 50);
}

TEST_CASE("http homeserver: a createRoom invites its invitees, one by one when it must", "[http][invite]") {
  const std::vector<std::string> invitees = {"@alice:example.org", "@bob:example.org"};
  bool refuse_count = false;
  bool alias_taken = false;
  model::Settings defaults;
  FakeServer server([&](const Request& request) -> std::optional<Reply> {
    if (request.path == "/_matrix/client/v3/createRoom") {
      if (alias_taken) {
        return error(400, "M_ROOM_IN_USE", "Room alias already taken");
      }
      if (refuse_count && request.body.contains("invite")) {
        return error(400, "M_UNKNOWN", "Cannot invite so many users at once");
      }
      return Reply{200, {{"room_id", "!new:example.org"}}};
    }
    if (request.path == "/_matrix/client/v3/directory/room/#mxctl.council.disputes:example.org") {
      return Reply{200, {{"room_id", "!old:example.org"}, {"servers", {"example.org"}}}};
    }
    if (request.path == "/_matrix/client/v3/rooms/!old:example.org/state/" + defaults.marker_event_type + "/") {
      return Reply{200, {{"key", "council/disputes"}, {"instance", defaults.instance}}};
    }
    if (request.path == "/_matrix/client/v3/rooms/!old:example.org/invite" &&
        request.body.value("user_id", "") == "@alice:example.org") {
      return error(403, "M_FORBIDDEN", "@alice:example.org is already in the room.");
    }
    if (request.path.ends_with("/invite")) {
      return Reply{200, nlohmann::json::object()};
    }
    return std::nullopt;
  });
  adapters::HttpHomeserver homeserver(settings_for(server, model::ProvisioningMode::synapse_admin), "token", quick());
  model::MatrixState desired;
  desired.rooms["council/disputes"] = room_with_version("10");
  model::Operation create;
  create.kind = model::Operation::Kind::create_room;
  create.room_key = "council/disputes";
  create.invitees = invitees;

  SECTION("in the createRoom itself") {
    auto created = homeserver.execute(create, {&desired, {}});
    REQUIRE(created);
    CHECK(created->room_id == std::optional<std::string>("!new:example.org"));
    auto requests = server.requests();
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].body["invite"] == nlohmann::json(invitees));
  }
  SECTION("after it, when the server refuses so many at once") {
    refuse_count = true;
    auto created = homeserver.execute(create, {&desired, {}});
    REQUIRE(created);
    CHECK(created->room_id == std::optional<std::string>("!new:example.org"));
    CHECK(server.calls() == std::vector<std::string>{"POST /_matrix/client/v3/createRoom",
                                                     "POST /_matrix/client/v3/createRoom",
                                                     "POST /_matrix/client/v3/rooms/!new:example.org/invite",
                                                     "POST /_matrix/client/v3/rooms/!new:example.org/invite"});
    auto requests = server.requests();
    CHECK_FALSE(requests[1].body.contains("invite"));
    CHECK(requests[2].body["user_id"] == "@alice:example.org");
    CHECK(requests[3].body["user_id"] == "@bob:example.org");
  }
  SECTION("again, when an earlier attempt's room is adopted (a member already in is done)") {
    alias_taken = true;
    auto created = homeserver.execute(create, {&desired, {}});
    REQUIRE(created);
    CHECK(created->room_id == std::optional<std::string>("!old:example.org"));
    CHECK(created->already_done);
    const std::vector<std::string> calls = server.calls();
    REQUIRE(calls.size() >= 2);
    CHECK(std::vector<std::string>(calls.end() - 2, calls.end()) ==
          std::vector<std::string>{"POST /_matrix/client/v3/rooms/!old:example.org/invite",
                                   "POST /_matrix/client/v3/rooms/!old:example.org/invite"});
  }
}

TEST_CASE("http homeserver: an invite into a DM carries is_direct in its member event", "[http][invite]") {
  std::string answer = "event";
  FakeServer server([&](const Request& request) -> std::optional<Reply> {
    if (request.method == "PUT" && request.path.starts_with("/_matrix/client/v3/rooms/!dm:example.org/state/")) {
      if (answer == "joined") {
        return error(403, "M_FORBIDDEN", "@bob:example.org is already in the room.");
      }
      if (answer == "no event id") {
        return Reply{200, nlohmann::json::object()};
      }
      return Reply{200, {{"event_id", "$invite:example.org"}}};
    }
    if (request.method == "POST" && request.path == "/_matrix/client/v3/rooms/!dm:example.org/invite") {
      return Reply{200, nlohmann::json::object()};
    }
    return std::nullopt;
  });
  adapters::HttpHomeserver homeserver(settings_for(server, model::ProvisioningMode::synapse_admin), "token", quick());
  model::MatrixState desired;
  model::Room dm = room_with_version("10");
  dm.key = "dm/req-1";
  dm.is_direct = true;
  desired.rooms[dm.key] = dm;
  model::Operation invite;
  invite.kind = model::Operation::Kind::invite;
  invite.room_key = dm.key;
  invite.user_id = "@bob:example.org";
  const std::map<std::string, std::string> ids = {{dm.key, "!dm:example.org"}};

  SECTION("through the member state event, whose content is valid for the spec") {
    auto invited = homeserver.execute(invite, {&desired, ids});
    REQUIRE(invited);
    CHECK_FALSE(invited->already_done);
    CHECK(server.calls() ==
          std::vector<std::string>{"PUT /_matrix/client/v3/rooms/!dm:example.org/state/m.room.member/@bob:example.org"});
    const nlohmann::json content = server.requests()[0].body;
    CHECK(content == nlohmann::json({{"membership", "invite"}, {"is_direct", true}}));
    const nlohmann::json event = {{"type", "m.room.member"},     {"state_key", "@bob:example.org"},
                                  {"content", content},           {"event_id", "$invite:example.org"},
                                  {"sender", k_bot},              {"origin_server_ts", 1},
                                  {"room_id", "!dm:example.org"}};
    CHECK(spec::validate(event, spec::event_schema("m.room.member")).empty());
  }
  SECTION("someone already in the room is done, as with /invite") {
    answer = "joined";
    auto invited = homeserver.execute(invite, {&desired, ids});
    REQUIRE(invited);
    CHECK(invited->already_done);
  }
  SECTION("a 200 without the event id is not taken for an invite") {
    answer = "no event id";
    auto invited = homeserver.execute(invite, {&desired, ids});
    REQUIRE_FALSE(invited);
    CHECK(invited.error().message.find("event_id") != std::string::npos);
  }
  SECTION("an invite into a room that is no DM still goes through /invite") {
    desired.rooms[dm.key].is_direct = false;
    CHECK(homeserver.execute(invite, {&desired, ids}));
    CHECK(server.calls() == std::vector<std::string>{"POST /_matrix/client/v3/rooms/!dm:example.org/invite"});
  }
}

TEST_CASE("http homeserver: a version 12 room's creators count as at their desired level, and are never written",
          "[http][v12]") {
  nlohmann::json power_levels = {
      {"users", {{"@alice:example.org", 50}}}, {"users_default", 0}, {"events_default", 0},
      {"state_default", 50},  {"ban", 50},     {"kick", 50},         {"redact", 50},
      {"invite", 0},
  };
  nlohmann::json state = nlohmann::json::array({
      {{"type", "m.room.create"},
       {"state_key", ""},
       {"sender", k_bot},
       {"content", {{"room_version", "12"}, {"additional_creators", {"@carol:example.org"}}}}},
      {{"type", "org.mxctl.managed"},
       {"state_key", ""},
       {"sender", k_bot},
       {"content", {{"key", "council/disputes"}, {"instance", "default"}}}},
      {{"type", "m.room.power_levels"}, {"state_key", ""}, {"sender", k_bot}, {"content", power_levels}},
  });
  FakeServer server([&](const Request& request) -> std::optional<Reply> {
    if (request.path == "/_matrix/client/v3/sync") {
      return Reply{200, {{"next_batch", "s1"}, {"rooms", {{"join", {{"!v12:example.org", {{"state", {{"events", state}}}}}}}}}}};
    }
    if (request.method == "PUT") {
      return Reply{200, {{"event_id", "$e"}}};
    }
    return error(404, "M_NOT_FOUND", "Event not found.");
  });
  adapters::HttpHomeserver homeserver(settings_for(server, model::ProvisioningMode::synapse_admin), "token", quick());
  model::MatrixState desired;
  desired.rooms["council/disputes"] = room_with_version("12");
  auto observed = homeserver.observe(desired, {});
  REQUIRE(observed);
  const model::PowerLevels& levels = observed->state.rooms.at("council/disputes").room.power_levels;
  // The bot is a creator the desired state lists at 100: credited at 100, so
  // the diff proposes nothing. carol is a creator it does not list: absent.
  CHECK(levels.users == std::map<std::string, int>{{k_bot, 100}, {"@alice:example.org", 50}});

  model::Operation write;
  write.kind = model::Operation::Kind::set_state;
  write.room_key = "council/disputes";
  write.field = model::StateField::power_levels;
  write.power_levels = levels;
  write.power_levels->users["@carol:example.org"] = 50;
  write.power_levels->users["@dana:example.org"] = 50;
  server.clear();
  auto written = homeserver.execute(write, {&desired, observed->room_ids});
  REQUIRE(written);
  auto requests = server.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].path == "/_matrix/client/v3/rooms/!v12:example.org/state/m.room.power_levels/");
  CHECK(requests[0].body["users"] == nlohmann::json{{"@alice:example.org", 50}, {"@dana:example.org", 50}});
}

TEST_CASE("http homeserver: failures name the action, the key and the errcode", "[http]") {
  FakeServer server([](const Request& request) -> std::optional<Reply> {
    if (request.path == "/_matrix/client/v3/createRoom") {
      return error(400, "M_ROOM_IN_USE", "Room alias already taken");
    }
    if (request.path.rfind("/_matrix/client/v3/directory/room/", 0) == 0) {
      return Reply{200, {{"room_id", "!other:example.org"}}};
    }
    if (request.path.rfind("/_matrix/client/v3/rooms/!other:example.org/state/", 0) == 0) {
      return error(403, "M_FORBIDDEN", "User @mxctl:example.org not in room !other:example.org");
    }
    if (request.path.rfind("/_synapse/admin/v2/users/", 0) == 0) {
      return error(403, "M_FORBIDDEN", "You are not a server admin");
    }
    return std::nullopt;
  });
  adapters::HttpHomeserver homeserver(settings_for(server, model::ProvisioningMode::synapse_admin), "token", quick());
  model::MatrixState desired = one_account("Alice", std::nullopt);
  desired.rooms["council/disputes"] = room_with_version("10");

  model::Operation create;
  create.kind = model::Operation::Kind::create_room;
  create.room_key = "council/disputes";
  auto room = homeserver.execute(create, {&desired, {}});
  REQUIRE_FALSE(room);
  CHECK(room.error().kind == model::Error::Kind::conflict);
  // The createRoom answer's errcode, not the marker read's that came after it.
  CHECK(room.error().errcode == "M_ROOM_IN_USE");
  CHECK(room.error().message ==
        "create room council/disputes (M_ROOM_IN_USE): alias #mxctl.council.disputes:example.org belongs to room "
        "!other:example.org, whose marker cannot be read (GET "
        "/_matrix/client/v3/rooms/%21other%3Aexample.org/state/org.mxctl.managed/: HTTP 403 M_FORBIDDEN: User "
        "@mxctl:example.org not in room !other:example.org); mxctl will not take it over");

  auto account = homeserver.execute(account_operation(model::Operation::Kind::update_account), {&desired, {}});
  REQUIRE_FALSE(account);
  CHECK(account.error().errcode == "M_FORBIDDEN");
  CHECK(account.error().message ==
        "update account alice (@alice:example.org): PUT /_synapse/admin/v2/users/%40alice%3Aexample.org: HTTP 403 "
        "M_FORBIDDEN: You are not a server admin");
}

TEST_CASE("http homeserver: an invitee's server that cannot be reached is an unreachable error", "[http]") {
  // Synapse's answer when federation to the invitee's server fails, and a
  // reverse proxy's 502 (no Matrix body) for a server that is down itself.
  FakeServer server([](const Request& request) -> std::optional<Reply> {
    if (request.path == "/_matrix/client/v3/rooms/!r:example.org/invite") {
      const std::string user = request.body.value("user_id", "");
      if (user == "@dana:other.example") {
        return error(502, "M_UNKNOWN", "Can't connect to server other.example");
      }
      return Reply{502, nullptr};
    }
    return std::nullopt;
  });
  adapters::HttpHomeserver homeserver(settings_for(server, model::ProvisioningMode::synapse_admin), "token", quick());
  model::MatrixState desired;
  desired.rooms["council/disputes"] = room_with_version("10");
  model::Operation invite;
  invite.kind = model::Operation::Kind::invite;
  invite.room_key = "council/disputes";
  invite.user_id = "@dana:other.example";
  const adapters::ExecutionContext context{&desired, {{"council/disputes", "!r:example.org"}}};

  auto remote = homeserver.execute(invite, context);
  REQUIRE_FALSE(remote);
  CHECK(remote.error().kind == model::Error::Kind::unreachable);
  CHECK(remote.error().errcode == "M_UNKNOWN");
  CHECK_FALSE(remote.error().retryable());
  CHECK(remote.error().message ==
        "invite @dana:other.example to council/disputes: POST /_matrix/client/v3/rooms/%21r%3Aexample.org/invite: "
        "HTTP 502 M_UNKNOWN: Can't connect to server other.example");

  // Without Synapse's body the 502 may be anything between us and it: retried.
  invite.user_id = "@erin:elsewhere.example";
  auto proxy = homeserver.execute(invite, context);
  REQUIRE_FALSE(proxy);
  CHECK(proxy.error().kind == model::Error::Kind::transient);
  CHECK(proxy.error().errcode.empty());
}

}  // namespace http_homeserver_test
