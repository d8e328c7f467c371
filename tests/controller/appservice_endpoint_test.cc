// `mxctl run`'s appservice endpoint over real HTTP on loopback, with a
// state store file: a transaction feeds the loop's change feed once, a
// repeat of its txnId (also after a restart, a new endpoint on the same
// store) is answered and ignored, and what is not the hs_token's is refused.

#include "controller/loop/appservice_endpoint.h"

#include <catch2/catch.hpp>
#include <httplib.h>

#include <sstream>

#include "adapters/state_store.h"
#include "tests/support/temp_dir.h"

using nlohmann::json;

namespace {

model::Settings appservice_settings() {
  model::Settings settings;
  settings.homeserver_url = "http://127.0.0.1:9";  // nothing listens: the start ping fails, logged
  settings.server_name = "x";
  settings.bot_user_id = "@bot:x";
  settings.provisioning = model::ProvisioningMode::appservice;
  return settings;
}

class Endpoint {
 public:
  Endpoint(const std::string& state_path, adapters::OwnWrites& own, std::ostream& out)
      : m_log(out, controller::LogFormat::text) {
    controller::AppserviceEndpointOptions options;
    options.host = "127.0.0.1";
    options.registration.id = "mxctl";
    options.registration.as_token = "as-token";
    options.registration.hs_token = "hs-token";
    options.state_path = state_path;
    adapters::ClientOptions client;
    client.connect_timeout = std::chrono::milliseconds(500);
    auto made = controller::AppserviceEndpoint::make(options, appservice_settings(), client, &own, m_log);
    REQUIRE(made);
    endpoint = std::move(*made);
    endpoint->snapshot().set_room_ids({{"a", "!a:x"}, {"b", "!b:x"}, {"c", "!c:x"}});
    REQUIRE(endpoint->start());
  }

  // PUT transactions/{txn_id} with one event in `room_id`; the status.
  int put(const std::string& txn_id, const std::string& room_id, const std::string& token = "hs-token") {
    httplib::Client client("127.0.0.1", endpoint->port());
    const json body = {{"events", json::array({{{"type", "m.room.name"},
                                                {"room_id", room_id},
                                                {"event_id", "$" + txn_id},
                                                {"sender", "@someone:x"},
                                                {"state_key", ""},
                                                {"origin_server_ts", 1},
                                                {"content", {{"name", "drift"}}}}})}};
    auto result = client.Put(("/_matrix/app/v1/transactions/" + txn_id).c_str(),
                             {{"Authorization", "Bearer " + token}}, body.dump(), "application/json");
    return result ? result->status : 0;
  }

  // The rooms the next wake of the feed names.
  std::set<std::string> woken() {
    auto notice = endpoint->feed().wait("", std::chrono::seconds(10));
    REQUIRE(notice);
    return notice->rooms;
  }

  controller::LoopLog m_log;
  std::unique_ptr<controller::AppserviceEndpoint> endpoint;
};

}  // namespace

TEST_CASE("appservice endpoint: a transaction wakes the loop once, and a repeat never, even after a restart",
          "[appservice][run]") {
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "mxctl.db").string();
  auto store = adapters::open_sqlite_store(path);
  REQUIRE(store);
  adapters::OwnWrites own;
  std::ostringstream first_log;
  {
    Endpoint first(path, own, first_log);
    CHECK(first.put("t1", "!a:x") == 200);
    CHECK(first.woken() == std::set<std::string>{"!a:x"});
    // Refused: not recorded, so not a repeat later either.
    CHECK(first.put("t9", "!c:x", "guess") == 403);
    CHECK(first.put("t1", "!a:x") == 200);  // repeated: answered, not done
    CHECK(first.put("t2", "!b:x") == 200);
    CHECK(first.woken() == std::set<std::string>{"!b:x"});
  }
  CHECK(first_log.str().find("appservice transaction t1 was done already") != std::string::npos);
  std::ostringstream second_log;
  Endpoint second(path, own, second_log);
  CHECK(second.put("t1", "!a:x") == 200);
  CHECK(second.put("t2", "!b:x") == 200);
  CHECK(second.put("t9", "!c:x") == 200);
  CHECK(second.woken() == std::set<std::string>{"!c:x"});
}
