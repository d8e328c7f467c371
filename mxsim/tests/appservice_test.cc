// Application services: registration files, as_token auth and masquerading,
// exclusive namespaces, and the homeserver's calls to the service (user and
// alias queries, transaction pushes) against a fake service on loopback.

#include <catch2/catch.hpp>

#include <chrono>
#include <mutex>
#include <thread>

#include "mxsim/appservice.h"
#include "mxsim/persistence.h"
#include "mxsim/tests/sim_fixture.h"

namespace appservice_test {

using mxsim_test::enc;
using mxsim_test::Reply;
using mxsim_test::Sim;

namespace {

const char* k_registration = R"(
id: bridge
url: null
as_token: as-secret
hs_token: hs-secret
sender_localpart: bridgebot
rate_limited: false
namespaces:
  users:
    - exclusive: true
      regex: "@bridge_.*:mxsim\\.test"
  aliases:
    - exclusive: true
      regex: "#bridge_.*:mxsim\\.test"
  rooms: []
)";

/// A fake application service: records what the homeserver sends and
/// provisions users and rooms through the client API when queried.
class FakeAppService {
 public:
  explicit FakeAppService(int homeserver_port) : m_homeserver_port(homeserver_port) {
    m_server.Put(R"(/transactions/(.*))", [this](const httplib::Request& request, httplib::Response& response) {
      std::lock_guard lock(m_mutex);
      nlohmann::json body = nlohmann::json::parse(request.body);
      m_transactions.emplace_back(request.matches[1], body["events"]);
      if (m_fail_next > 0) {
        --m_fail_next;
        response.status = 500;
        return;
      }
      m_authorizations.push_back(request.get_param_value("access_token"));
      for (const auto& event : body["events"]) {
        m_events.push_back(event);
      }
      response.set_content("{}", "application/json");
    });
    m_server.Get(R"(/users/(.*))", [this](const httplib::Request& request, httplib::Response& response) {
      std::string user_id = request.matches[1];
      {
        std::lock_guard lock(m_mutex);
        m_user_queries.push_back(user_id);
      }
      std::string localpart = user_id.substr(1, user_id.find(':') - 1);
      httplib::Client client("127.0.0.1", m_homeserver_port);
      auto result = client.Post("/_matrix/client/v3/register", {{"Authorization", "Bearer as-secret"}},
                                nlohmann::json({{"type", "m.login.application_service"}, {"username", localpart}}).dump(),
                                "application/json");
      response.status = result && result->status == 200 ? 200 : 404;
      response.set_content("{}", "application/json");
    });
    m_server.Get(R"(/rooms/(.*))", [this](const httplib::Request& request, httplib::Response& response) {
      std::string alias = request.matches[1];
      {
        std::lock_guard lock(m_mutex);
        m_alias_queries.push_back(alias);
      }
      std::string name = alias.substr(1, alias.find(':') - 1);
      httplib::Client client("127.0.0.1", m_homeserver_port);
      auto result = client.Post("/_matrix/client/v3/createRoom", {{"Authorization", "Bearer as-secret"}},
                                nlohmann::json({{"room_alias_name", name}, {"preset", "public_chat"}}).dump(),
                                "application/json");
      response.status = result && result->status == 200 ? 200 : 404;
      response.set_content("{}", "application/json");
    });
    m_port = m_server.bind_to_any_port("127.0.0.1");
    m_thread = std::thread([this] { m_server.listen_after_bind(); });
    while (!m_server.is_running()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  ~FakeAppService() {
    m_server.stop();
    m_thread.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }
  std::vector<nlohmann::json> events() {
    std::lock_guard lock(m_mutex);
    return m_events;
  }
  std::vector<std::string> authorizations() {
    std::lock_guard lock(m_mutex);
    return m_authorizations;
  }
  /// Every PUT received (accepted or not): txn id and events.
  std::vector<std::pair<std::string, nlohmann::json>> transactions() {
    std::lock_guard lock(m_mutex);
    return m_transactions;
  }
  /// Answers the next `count` transactions 500.
  void fail_next(int count) {
    std::lock_guard lock(m_mutex);
    m_fail_next = count;
  }
  std::vector<std::string> user_queries() {
    std::lock_guard lock(m_mutex);
    return m_user_queries;
  }
  std::vector<std::string> alias_queries() {
    std::lock_guard lock(m_mutex);
    return m_alias_queries;
  }

 private:
  int m_homeserver_port;
  httplib::Server m_server;
  std::thread m_thread;
  int m_port = 0;
  std::mutex m_mutex;
  std::vector<nlohmann::json> m_events;
  std::vector<std::pair<std::string, nlohmann::json>> m_transactions;
  int m_fail_next = 0;
  std::vector<std::string> m_authorizations;
  std::vector<std::string> m_user_queries;
  std::vector<std::string> m_alias_queries;
};

Reply as_register(Sim& sim, const std::string& localpart, const std::string& token = "as-secret") {
  return sim.post("/_matrix/client/v3/register", token,
                  {{"type", "m.login.application_service"}, {"username", localpart}});
}

}  // namespace

TEST_CASE("mxsim: registration YAML is parsed like Synapse's config", "[mxsim]") {
  mxsim::AppService service = mxsim::parse_registration(k_registration);
  CHECK(service.id == "bridge");
  CHECK(service.url.empty());
  CHECK(service.sender("mxsim.test") == "@bridgebot:mxsim.test");
  CHECK(!service.rate_limited);
  CHECK(service.exclusive_user("@bridge_alice:mxsim.test"));
  CHECK(!service.interested_in_user("@alice:mxsim.test", "mxsim.test"));
  CHECK(service.interested_in_user("@bridgebot:mxsim.test", "mxsim.test"));
  CHECK(service.exclusive_alias("#bridge_x:mxsim.test"));
  CHECK_THROWS(mxsim::parse_registration("id: x\n"));
}

TEST_CASE("mxsim: the as_token acts as the sender or a namespaced user", "[mxsim]") {
  Sim sim;
  sim.hs().add_appservice(mxsim::parse_registration(k_registration));

  Reply sender = sim.get("/_matrix/client/v3/account/whoami", "as-secret");
  REQUIRE(sender.status == 200);
  CHECK(sender.body["user_id"] == "@bridgebot:mxsim.test");

  SECTION("registering a namespaced user, then masquerading as it") {
    Reply registered = as_register(sim, "bridge_alice");
    REQUIRE(registered.status == 200);
    CHECK(registered.body["user_id"] == "@bridge_alice:mxsim.test");
    CHECK(registered.body.contains("access_token"));
    Reply as_alice = sim.get("/_matrix/client/v3/account/whoami?user_id=" + enc("@bridge_alice:mxsim.test"), "as-secret");
    CHECK(as_alice.body["user_id"] == "@bridge_alice:mxsim.test");
    Reply again = as_register(sim, "bridge_alice");
    CHECK(again.status == 400);
    CHECK(again.errcode() == "M_USER_IN_USE");
  }
  SECTION("masquerading outside the namespace is 403") {
    sim.user("alice");
    Reply refused = sim.get("/_matrix/client/v3/account/whoami?user_id=" + enc("@alice:mxsim.test"), "as-secret");
    CHECK(refused.status == 403);
    CHECK(refused.errcode() == "M_FORBIDDEN");
    CHECK(refused.error() == "Application service cannot masquerade as this user.");
  }
  SECTION("masquerading as an unregistered namespaced user is 403") {
    Reply refused = sim.get("/_matrix/client/v3/account/whoami?user_id=" + enc("@bridge_nobody:mxsim.test"), "as-secret");
    CHECK(refused.status == 403);
    CHECK(refused.error() == "Application service has not registered this user");
  }
  SECTION("registering outside the namespace is 400 M_EXCLUSIVE") {
    Reply refused = as_register(sim, "alice");
    CHECK(refused.status == 400);
    CHECK(refused.errcode() == "M_EXCLUSIVE");
  }
  SECTION("an unknown as_token is 401 M_UNKNOWN_TOKEN") {
    Reply refused = as_register(sim, "bridge_x", "wrong");
    CHECK(refused.status == 401);
    CHECK(refused.errcode() == "M_UNKNOWN_TOKEN");
  }
  SECTION("appservice login") {
    REQUIRE(as_register(sim, "bridge_bob").status == 200);
    Reply login = sim.post("/_matrix/client/v3/login", "as-secret",
                           {{"type", "m.login.application_service"},
                            {"identifier", {{"type", "m.id.user"}, {"user", "bridge_bob"}}}});
    REQUIRE(login.status == 200);
    CHECK(login.body["user_id"] == "@bridge_bob:mxsim.test");
  }
}

TEST_CASE("mxsim: others may not take an appservice's exclusive namespaces", "[mxsim]") {
  Sim sim;
  sim.hs().add_appservice(mxsim::parse_registration(k_registration));
  std::string admin = sim.user("admin", true);

  Reply user = sim.put("/_synapse/admin/v2/users/" + enc("@bridge_eve:mxsim.test"), admin, {{"password", "x"}});
  CHECK(user.status == 400);
  CHECK(user.errcode() == "M_EXCLUSIVE");

  Reply room = sim.post("/_matrix/client/v3/createRoom", admin, {{"room_alias_name", "bridge_room"}});
  CHECK(room.status == 400);
  CHECK(room.errcode() == "M_EXCLUSIVE");

  std::string room_id = sim.create_room(admin);
  Reply alias = sim.put("/_matrix/client/v3/directory/room/" + enc("#bridge_x:mxsim.test"), admin, {{"room_id", room_id}});
  CHECK(alias.status == 400);
  CHECK(alias.errcode() == "M_EXCLUSIVE");

  Reply own = sim.post("/_matrix/client/v3/createRoom", "as-secret", {{"room_alias_name", "bridge_room"}});
  CHECK(own.status == 200);
}

TEST_CASE("mxsim: appservices are exempt from rate limits when rate_limited is false", "[mxsim]") {
  Sim sim;
  sim.hs().add_appservice(mxsim::parse_registration(k_registration));
  sim.hs().rate_limiter().configure("message", {0.01, 1});
  sim.hs().rate_limiter().set_enabled(true);
  for (int i = 0; i < 5; ++i) {
    CHECK(sim.post("/_matrix/client/v3/createRoom", "as-secret", nlohmann::json::object()).status == 200);
  }
}

TEST_CASE("mxsim: events in an appservice's namespaces are pushed as transactions", "[mxsim]") {
  Sim sim;
  FakeAppService service(sim.server().port());
  mxsim::AppService registration = mxsim::parse_registration(k_registration);
  registration.url = service.url();
  sim.hs().add_appservice(registration);
  std::string bot = sim.user("bot");

  std::string room_id = sim.create_room(bot, {{"preset", "public_chat"}});
  REQUIRE(as_register(sim, "bridge_alice").status == 200);
  REQUIRE(sim.post(Sim::room_path(room_id, "/join") + "?user_id=" + enc("@bridge_alice:mxsim.test"), "as-secret").status == 200);
  REQUIRE(sim.put(Sim::room_path(room_id, "/send/m.room.message/1"), bot, {{"body", "seen by bridge_alice"}}).status == 200);
  std::string elsewhere = sim.create_room(bot);
  REQUIRE(sim.put(Sim::room_path(elsewhere, "/send/m.room.message/2"), bot, {{"body", "unrelated"}}).status == 200);
  REQUIRE(sim.hs().appservice_client().flush(5000));

  std::vector<nlohmann::json> events = service.events();
  REQUIRE(events.size() == 2);
  CHECK(events[0]["type"] == "m.room.member");
  CHECK(events[0]["state_key"] == "@bridge_alice:mxsim.test");
  CHECK(events[0]["room_id"] == room_id);
  CHECK(events[1]["content"]["body"] == "seen by bridge_alice");
  // As Synapse 1.67 sends it: the legacy query parameter.
  for (const auto& authorization : service.authorizations()) {
    CHECK(authorization == "hs-secret");
  }
}

TEST_CASE("mxsim: unknown namespaced users and aliases are queried from the appservice", "[mxsim]") {
  Sim sim;
  FakeAppService service(sim.server().port());
  mxsim::AppService registration = mxsim::parse_registration(k_registration);
  registration.url = service.url();
  sim.hs().add_appservice(registration);
  std::string bot = sim.user("bot");

  SECTION("a profile lookup does not query (Synapse 1.67's get_profile reads its own table only)") {
    Reply profile = sim.get("/_matrix/client/v3/profile/" + enc("@bridge_carol:mxsim.test"));
    CHECK(profile.status == 404);
    CHECK(service.user_queries().empty());
  }
  SECTION("an invite provisions the user first") {
    std::string room_id = sim.create_room(bot);
    REQUIRE(sim.member_action(bot, room_id, "invite", "@bridge_dan:mxsim.test").status == 200);
    CHECK(service.user_queries() == std::vector<std::string>{"@bridge_dan:mxsim.test"});
    Reply admin_view = sim.get("/_matrix/client/v3/profile/" + enc("@bridge_dan:mxsim.test"));
    CHECK(admin_view.status == 200);
  }
  SECTION("an alias lookup lets the appservice create the room") {
    Reply alias = sim.get("/_matrix/client/v3/directory/room/" + enc("#bridge_lobby:mxsim.test"));
    REQUIRE(alias.status == 200);
    CHECK(alias.body["room_id"].is_string());
    CHECK(service.alias_queries() == std::vector<std::string>{"#bridge_lobby:mxsim.test"});
    std::string bob = sim.user("bob");
    CHECK(sim.post("/_matrix/client/v3/join/" + enc("#bridge_lobby:mxsim.test"), bob).status == 200);
  }
  SECTION("aliases outside every namespace are not queried") {
    CHECK(sim.get("/_matrix/client/v3/directory/room/" + enc("#other:mxsim.test")).status == 404);
    CHECK(service.alias_queries().empty());
  }
}

TEST_CASE("mxsim: transaction ids come from one sequence kept in the state, and a retry resends the same events",
          "[mxsim]") {
  nlohmann::json saved;
  {
    Sim sim;
    FakeAppService service(sim.server().port());
    mxsim::AppService registration = mxsim::parse_registration(k_registration);
    registration.url = service.url();
    sim.hs().add_appservice(registration);
    REQUIRE(as_register(sim, "bridge_alice").status == 200);
    std::string room_id = sim.create_room(sim.user("bot"), {{"preset", "public_chat"}});
    service.fail_next(1);
    REQUIRE(sim.post(Sim::room_path(room_id, "/join") + "?user_id=" + enc("@bridge_alice:mxsim.test"), "as-secret")
                .status == 200);
    REQUIRE(sim.hs().appservice_client().flush(10000));
    auto sent = service.transactions();
    // Refused once, then sent again with the same id and the same events.
    REQUIRE(sent.size() == 2);
    CHECK(sent[0].first == sent[1].first);
    CHECK(sent[0].second == sent[1].second);
    auto lock = sim.hs().read_lock();
    saved = mxsim::save_state(sim.hs().state());
  }
  // Restarted from its state: the sequence goes on, no id is given twice.
  Sim sim;
  {
    auto lock = sim.hs().write_lock();
    mxsim::load_state(sim.hs().state(), saved);
  }
  FakeAppService service(sim.server().port());
  mxsim::AppService registration = mxsim::parse_registration(k_registration);
  registration.url = service.url();
  sim.hs().add_appservice(registration);
  std::string room_id = sim.create_room(sim.user("bot2"), {{"preset", "public_chat"}});
  REQUIRE(sim.post(Sim::room_path(room_id, "/join") + "?user_id=" + enc("@bridge_alice:mxsim.test"), "as-secret")
              .status == 200);
  REQUIRE(sim.hs().appservice_client().flush(10000));
  auto sent = service.transactions();
  REQUIRE(!sent.empty());
  CHECK(std::stoll(sent.front().first) == saved.at("appservice_txn_last").get<int64_t>() + 1);
}

}  // namespace appservice_test
