// `mxctl run`'s appservice endpoint over real HTTP on loopback, with a
// state store file: a transaction feeds the loop's change feed once, a
// repeat of its txnId (also after a restart, a new endpoint on the same
// store) is answered and ignored, and what is not the hs_token's is refused.

#include "controller/loop/appservice_endpoint.h"

#include <catch2/catch.hpp>
#include <httplib.h>

#include <atomic>

#include <functional>
#include <mutex>
#include <sstream>
#include <thread>

#include "adapters/state_store.h"
#include "tests/support/temp_dir.h"

namespace appservice_endpoint_test {

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

// A log sink other threads may write while the test reads it.
class SharedLog : public std::streambuf {
 public:
  std::string text() {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_text;
  }

 protected:
  int overflow(int c) override {
    if (c != traits_type::eof()) {
      std::lock_guard<std::mutex> lock(m_mutex);
      m_text.push_back(static_cast<char>(c));
    }
    return c;
  }
  std::streamsize xsputn(const char* data, std::streamsize size) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_text.append(data, static_cast<std::size_t>(size));
    return size;
  }

 private:
  std::mutex m_mutex;
  std::string m_text;
};

bool eventually(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

// A homeserver that only knows the client-server ping: `answer` decides,
// given what the service's /ping answered (0: not asked), what it says.
class PingingHomeserver {
 public:
  explicit PingingHomeserver(std::function<std::pair<int, std::string>(int)> answer, std::string hs_token)
      : m_answer(std::move(answer)), m_hs_token(std::move(hs_token)) {
    m_server.Post(R"(/_matrix/client/v1/appservice/([^/]+)/ping)",
                  [this](const httplib::Request& request, httplib::Response& response) {
                    // The test tells the port once start() returned; the ping may come first.
                    eventually([this] { return m_service_port > 0; });
                    int status = 0;
                    if (request.get_header_value("Authorization") == "Bearer as-token" && m_service_port > 0) {
                      httplib::Client service("127.0.0.1", m_service_port);
                      auto pinged = service.Post("/_matrix/app/v1/ping", {{"Authorization", "Bearer " + m_hs_token}},
                                                 request.body, "application/json");
                      status = pinged ? pinged->status : 0;
                    }
                    auto [code, body] = m_answer(status);
                    response.status = code;
                    response.set_content(body, "application/json");
                  });
    m_port = m_server.bind_to_any_port("127.0.0.1");
    m_thread = std::thread([this] { m_server.listen_after_bind(); });
    while (!m_server.is_running()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  ~PingingHomeserver() {
    m_server.stop();
    m_thread.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }
  std::atomic<int> m_service_port{0};

 private:
  std::function<std::pair<int, std::string>(int)> m_answer;
  std::string m_hs_token;
  httplib::Server m_server;
  std::thread m_thread;
  int m_port = 0;
};

// The start ping against `homeserver`; the log once `expect` is in it (or
// after the bound, for the checks to fail on).
std::string ping_log(PingingHomeserver& homeserver, const std::string& expect) {
  SharedLog sink;
  std::ostream out(&sink);
  controller::LoopLog log(out, controller::LogFormat::text);
  adapters::OwnWrites own;
  controller::AppserviceEndpointOptions options;
  options.host = "127.0.0.1";
  options.registration.id = "mxctl";
  options.registration.as_token = "as-token";
  options.registration.hs_token = "hs-token";
  options.state_path = ":memory:";
  model::Settings settings = appservice_settings();
  settings.homeserver_url = homeserver.url();
  auto endpoint = controller::AppserviceEndpoint::make(options, settings, adapters::ClientOptions{}, &own, log);
  REQUIRE(endpoint);
  // The port is known once bound; the homeserver is told before it can be asked.
  REQUIRE((*endpoint)->start());
  homeserver.m_service_port = (*endpoint)->port();
  eventually([&] { return sink.text().find(expect) != std::string::npos; });
  endpoint->reset();
  return sink.text();
}

}  // namespace

TEST_CASE("appservice endpoint: the start ping's answer is logged, and an unknown ping is no error",
          "[appservice][run]") {
  SECTION("the homeserver reaches the listener") {
    PingingHomeserver homeserver(
        [](int pinged) {
          return pinged == 200 ? std::make_pair(200, std::string(R"({"duration_ms": 7})"))
                               : std::make_pair(502, std::string(R"({"errcode": "M_BAD_STATUS", "status": )") +
                                                         std::to_string(pinged) + "}");
        },
        "hs-token");
    const std::string log = ping_log(homeserver, "ping answered");
    CHECK(log.find("info the homeserver reaches the appservice listener (ping answered in 7 ms)") !=
          std::string::npos);
  }
  SECTION("the homeserver holds another hs_token: the listener refuses it, the homeserver says so") {
    PingingHomeserver homeserver(
        [](int pinged) {
          return pinged == 200 ? std::make_pair(200, std::string(R"({"duration_ms": 7})"))
                               : std::make_pair(502, std::string(R"({"errcode": "M_BAD_STATUS", "error": "Ping )"
                                                                 R"(returned status )") +
                                                         std::to_string(pinged) + "\"}");
        },
        "stale-token");
    const std::string log = ping_log(homeserver, "cannot reach");
    CHECK(log.find("warning the homeserver cannot reach the appservice listener") != std::string::npos);
    CHECK(log.find("403") != std::string::npos);
  }
  SECTION("a homeserver without the ping (Synapse 1.67: 400 M_UNRECOGNIZED)") {
    PingingHomeserver homeserver(
        [](int) {
          return std::make_pair(400, std::string(R"({"errcode": "M_UNRECOGNIZED", "error": "Unrecognized request"})"));
        },
        "hs-token");
    const std::string log = ping_log(homeserver, "does not offer");
    CHECK(log.find("info the homeserver does not offer the appservice ping") != std::string::npos);
    CHECK(log.find("warning") == std::string::npos);
  }
}

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

}  // namespace appservice_endpoint_test
