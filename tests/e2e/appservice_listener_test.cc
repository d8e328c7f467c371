// `mxctl run` in appservice mode serving the application-service API to
// the simulator, which calls it as Synapse 1.67 does: transactions pushed
// repair drift without a resync, an invite of a managed account not made
// yet has it registered, an alias lookup of a managed room not made yet
// has it created complete, and a transaction repeated after a restart is
// done once. Every wait is on a condition, with a generous bound.

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <httplib.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <regex>
#include <thread>

#include "tests/e2e/appservice_fixture.h"
#include "tests/e2e/fixture.h"
#include "tests/support/child_process.h"
#include "tests/support/eventually.h"
#include "tests/support/http_json.h"

namespace appservice_listener_test {

using testing_support::eventually;

namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing_support::url_encode;

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t found = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
    ++found;
  }
  return found;
}

// `mxctl run` on the fixture's manifests and config, in appservice mode.
class AppserviceRun {
 public:
  AppserviceRun(e2e::AppserviceFixture& fx, const std::string& name, std::vector<std::string> args = {})
      : m_child(argv(fx, std::move(args)), fx.env(), fx.scratch(name + ".out"), fx.scratch(name + ".err")) {}

  std::string log() const { return m_child.err(); }
  testing_support::ChildProcess& child() { return m_child; }

  bool logged(const std::string& text, std::size_t count = 1, std::chrono::milliseconds limit = 30s) {
    return eventually([&] { return count_of(m_child.err(), text) >= count; }, limit);
  }

  // The port the application-service API is served on, once logged; 0 if never.
  int appservice_port() {
    static const std::regex k_serving(R"(serving the application-service API on http://127\.0\.0\.1:(\d+))");
    int port = 0;
    eventually([&] {
      std::smatch found;
      const std::string log = m_child.err();
      if (std::regex_search(log, found, k_serving)) {
        port = std::stoi(found[1]);
      }
      return port != 0;
    });
    return port;
  }

 private:
  static std::vector<std::string> argv(const e2e::AppserviceFixture& fx, std::vector<std::string> args) {
    std::vector<std::string> out = {MXCTL_BINARY, "--config", fx.config(), "run", fx.manifests(), "--listen",
                                    "127.0.0.1:0"};
    out.insert(out.end(), args.begin(), args.end());
    return out;
  }

  testing_support::ChildProcess m_child;
};

const std::vector<std::string> k_listen = {"--appservice-listen", "127.0.0.1:0"};
const std::string k_hs_token = "hs_token_for_mxctl_e2e";

std::string room_id_of(e2e::AppserviceFixture& fx, const std::string& alias) {
  mxsim::ApiResponse resolved = fx.as_bot("GET", "/_matrix/client/v3/directory/room/" + url_encode(alias), nullptr);
  REQUIRE(resolved.status == 200);
  return resolved.body["room_id"];
}

json state_of(e2e::AppserviceFixture& fx, const std::string& room_id, const std::string& type,
              const std::string& state_key = "") {
  mxsim::ApiResponse got = fx.as_bot(
      "GET", "/_matrix/client/v3/rooms/" + url_encode(room_id) + "/state/" + type + "/" + url_encode(state_key), nullptr);
  return got.status == 200 ? got.body : json();
}

// A topic set by hand with the appservice's token (alice, an admin, is
// only invited so far): drift, since mxctl's own port did not write it.
void drift_topic(e2e::AppserviceFixture& fx, const std::string& room_id, const std::string& topic) {
  REQUIRE(fx.as_bot("PUT", "/_matrix/client/v3/rooms/" + url_encode(room_id) + "/state/m.room.topic/",
                    {{"topic", topic}})
              .status == 200);
}

// Stops every pass from starting (the probe fails), so that what the
// queries make is theirs alone.
void hold_passes(e2e::AppserviceFixture& fx) {
  mxsim::FaultRule rule;
  rule.method = "GET";
  rule.path_prefix = "/_matrix/client/v3/account/whoami";
  rule.times = -1;
  rule.status = 500;
  fx.homeserver().faults().add(rule);
}

httplib::Result put_transaction(int port, const std::string& txn_id, const json& events) {
  httplib::Client client("127.0.0.1", port);
  return client.Put(("/transactions/" + txn_id + "?access_token=" + k_hs_token).c_str(),
                    json({{"events", events}}).dump(), "application/json");
}

json topic_event(const std::string& room_id, const std::string& event_id) {
  return {{"type", "m.room.topic"}, {"room_id", room_id},   {"event_id", event_id},
          {"sender", "@alice:mxsim.test"}, {"state_key", ""}, {"origin_server_ts", 1},
          {"content", {{"topic", "pushed"}}}};
}

// A TCP port on 127.0.0.1 free a moment ago, for a listener the
// registration must name before it listens.
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  socklen_t length = sizeof address;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  ::close(fd);
  return ntohs(address.sin_port);
}

}  // namespace

TEST_CASE("e2e: registered from the start, the listener's queries make what the first pass looks up, once",
          "[e2e][appservice][run]") {
  e2e::AppserviceFixture fx;
  const int port = free_port();
  fx.set_registration_url("http://127.0.0.1:" + std::to_string(port));
  AppserviceRun run(fx, "run", {"--appservice-listen", "127.0.0.1:" + std::to_string(port)});
  INFO(run.log());
  REQUIRE(run.logged("pass done (start)", 1, 60s));
  // The pass looked the aliases up; the homeserver asked; the rooms were
  // made there and then, and the pass adopted them.
  CHECK(run.logged("for the homeserver's query of"));
  const e2e::ServerAudit audit = e2e::audit(fx.homeserver());
  CHECK(audit.marked.size() == 14);
  for (const auto& [key, rooms] : audit.marked) {
    INFO(key);
    CHECK(rooms.size() == 1);
  }
  run.child().signal(SIGTERM);
  REQUIRE(run.child().wait_for(30s) == std::optional<int>(0));
  auto converged = fx.mxctl({"plan", fx.manifests(), "--detailed-exitcode"});
  INFO(converged.out << converged.err);
  CHECK(converged.exit_code == 0);
}

TEST_CASE("e2e: in appservice mode, drift pushed by the homeserver is repaired at once, not at the resync",
          "[e2e][appservice][run]") {
  e2e::AppserviceFixture fx;
  AppserviceRun run(fx, "run", k_listen);
  const int port = run.appservice_port();
  REQUIRE(port > 0);
  INFO(run.log());
  REQUIRE(run.logged("pass done (start)"));
  fx.set_registration_url("http://127.0.0.1:" + std::to_string(port));

  const std::string riverside = room_id_of(fx, "#mxctl.community.riverside.general:mxsim.test");
  drift_topic(fx, riverside, "drifted");
  REQUIRE(run.logged("pass started: homeserver_changed (1 room)"));
  CHECK(eventually([&] {
    return state_of(fx, riverside, "m.room.topic").value("topic", "") ==
           "Announcements and everyday chat for Riverside Commons";
  }));
  REQUIRE(run.logged("pass done (homeserver_changed)"));
  REQUIRE(fx.homeserver().appservice_client().flush(10000));

  // The repair's own write came back in a transaction too; it wakes no pass
  // of its own and joins no other: the next drift's pass names one room.
  const std::string harbor = room_id_of(fx, "#mxctl.community.harbor.general:mxsim.test");
  drift_topic(fx, harbor, "drifted too");
  REQUIRE(run.logged("pass done (homeserver_changed)", 2));
  CHECK(eventually(
      [&] { return state_of(fx, harbor, "m.room.topic").value("topic", "") == "Bookings, repairs and questions"; }));
  const std::string log = run.log();
  CHECK(count_of(log, "pass started: homeserver_changed") == 2);
  CHECK(count_of(log, "pass started: homeserver_changed (1 room)") == 2);
  CHECK(count_of(log, "pass started: resync") == 0);
  CHECK(fx.homeserver().appservice_client().transactions_sent() > 0);
  run.child().signal(SIGTERM);
  CHECK(run.child().wait_for(30s) == std::optional<int>(0));
}

TEST_CASE("e2e: the homeserver asking about a managed account not made yet has it registered with its profile",
          "[e2e][appservice][run]") {
  e2e::AppserviceFixture fx;
  hold_passes(fx);
  AppserviceRun run(fx, "run", k_listen);
  const int port = run.appservice_port();
  REQUIRE(port > 0);
  INFO(run.log());
  REQUIRE(run.logged("pass failed (start)"));  // the desired state is loaded; no pass made anything
  fx.set_registration_url("http://127.0.0.1:" + std::to_string(port));
  REQUIRE(!fx.user("@carol:mxsim.test"));

  mxsim::ApiResponse room = fx.as_bot("POST", "/_matrix/client/v3/createRoom", json::object());
  REQUIRE(room.status == 200);
  const std::string room_id = room.body["room_id"];
  // An invite is what makes Synapse ask (it queries the user of an event it
  // is about to push).
  CHECK(fx.as_bot("POST", "/_matrix/client/v3/rooms/" + url_encode(room_id) + "/invite",
                  {{"user_id", "@carol:mxsim.test"}})
            .status == 200);
  REQUIRE(eventually([&] { return fx.user("@carol:mxsim.test").has_value(); }));
  CHECK(fx.user("@carol:mxsim.test")->displayname == std::optional<std::string>("Carol Nguyen"));
  CHECK(run.logged("registered account.carol"));

  // Someone the desired state does not have is not made.
  fx.as_bot("POST", "/_matrix/client/v3/rooms/" + url_encode(room_id) + "/invite",
            {{"user_id", "@zed:mxsim.test"}});
  CHECK(!fx.user("@zed:mxsim.test"));
}

TEST_CASE("e2e: the homeserver asking about a managed alias not made yet has its room created complete",
          "[e2e][appservice][run]") {
  e2e::AppserviceFixture fx;
  hold_passes(fx);
  AppserviceRun run(fx, "run", k_listen);
  const int port = run.appservice_port();
  REQUIRE(port > 0);
  INFO(run.log());
  REQUIRE(run.logged("pass failed (start)"));
  fx.set_registration_url("http://127.0.0.1:" + std::to_string(port));

  // A lookup of the room's alias: the room and its parent space are made.
  const std::string room_id = room_id_of(fx, "#mxctl.community.harbor.general:mxsim.test");
  const std::string space_id = room_id_of(fx, "#mxctl.community.harbor:mxsim.test");
  CHECK(state_of(fx, room_id, e2e::k_marker_type).value("key", "") == "community/harbor/general");
  CHECK(state_of(fx, space_id, e2e::k_marker_type).value("key", "") == "community/harbor");
  CHECK(state_of(fx, space_id, "m.room.create").value("type", "") == "m.space");
  CHECK(state_of(fx, room_id, "m.room.encryption").value("algorithm", "") == "m.megolm.v1.aes-sha2");
  const json join_rules = state_of(fx, room_id, "m.room.join_rules");
  CHECK(join_rules.value("join_rule", "") == "restricted");
  CHECK(join_rules.dump().find(space_id) != std::string::npos);
  const json levels = state_of(fx, room_id, "m.room.power_levels");
  CHECK(levels["users"].value(e2e::k_appservice_bot, 0) == 100);
  CHECK(levels["users"].value("@carol:mxsim.test", 0) == 100);  // harbor's admin
  CHECK(state_of(fx, room_id, "m.space.parent", space_id).contains("via"));
  CHECK(state_of(fx, space_id, "m.space.child", room_id).contains("via"));
  CHECK(run.logged("created room.community/harbor/general"));

  // An alias outside the desired state is not made.
  CHECK(fx.as_bot("GET", "/_matrix/client/v3/directory/room/" + url_encode("#mxctl.nothing:mxsim.test"), nullptr)
            .status == 404);

  // Once passes run, they adopt both rooms: one room per key, no second one.
  fx.homeserver().faults().clear();
  REQUIRE(run.logged("pass done ("));
  const e2e::ServerAudit audit = e2e::audit(fx.homeserver());
  CHECK(audit.marked.at("community/harbor/general") == std::vector<std::string>{room_id});
  CHECK(audit.marked.at("community/harbor") == std::vector<std::string>{space_id});
}

TEST_CASE("e2e: a transaction the homeserver repeats after mxctl restarted is not done twice",
          "[e2e][appservice][run]") {
  e2e::AppserviceFixture fx;
  // The setting, this time, instead of the flag.
  std::ofstream(fx.config(), std::ios::app) << "appserviceListen: 127.0.0.1:0\n";
  std::string riverside;
  std::string harbor;
  {
    AppserviceRun first(fx, "first");
    const int port = first.appservice_port();
    REQUIRE(port > 0);
    INFO(first.log());
    REQUIRE(first.logged("pass done (start)"));
    riverside = room_id_of(fx, "#mxctl.community.riverside.general:mxsim.test");
    harbor = room_id_of(fx, "#mxctl.community.harbor.general:mxsim.test");
    auto answered = put_transaction(port, "41", json::array({topic_event(riverside, "$pushed-1")}));
    REQUIRE(answered);
    CHECK(answered->status == 200);
    REQUIRE(first.logged("pass done (homeserver_changed)"));
    first.child().signal(SIGTERM);
    REQUIRE(first.child().wait_for(30s) == std::optional<int>(0));
  }
  AppserviceRun second(fx, "second");
  const int port = second.appservice_port();
  REQUIRE(port > 0);
  INFO(second.log());
  REQUIRE(second.logged("pass done (start)"));
  // The same transaction again (its answer lost, say), then a new one about
  // another room: only the new one's room is looked at.
  auto repeated = put_transaction(port, "41", json::array({topic_event(riverside, "$pushed-1")}));
  REQUIRE(repeated);
  CHECK(repeated->status == 200);
  CHECK(second.logged("appservice transaction 41 was done already"));
  auto fresh = put_transaction(port, "42", json::array({topic_event(harbor, "$pushed-2")}));
  REQUIRE(fresh);
  CHECK(fresh->status == 200);
  REQUIRE(second.logged("pass done (homeserver_changed)"));
  CHECK(count_of(second.log(), "pass started: homeserver_changed (1 room)") == 1);
  CHECK(count_of(second.log(), "pass started: homeserver_changed") == 1);
}

}  // namespace appservice_listener_test
