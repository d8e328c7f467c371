// The application-service listener over real HTTP on loopback: the
// hs_token (header, legacy query parameter, missing, wrong), the shapes it
// refuses, the routes it serves (spec and legacy) and what it answers to
// queries and pings; and the transaction feed it feeds.

#include "adapters/homeserver/appservice_listener.h"

#include <catch2/catch.hpp>
#include <httplib.h>

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "adapters/homeserver/transaction_feed.h"

namespace appservice_listener_test {

using nlohmann::json;

namespace {

const std::string k_hs_token = "hs-token-secret";

struct Heard {
  std::mutex mutex;
  std::vector<std::pair<std::string, json>> transactions;
  std::vector<std::string> users;
  std::vector<std::string> aliases;
};

// A listener whose handlers record what they hear; @known:x and #known:x
// exist, anything else is absent, @broken:x fails.
class Served {
 public:
  Served() {
    adapters::AppserviceListenerOptions options;
    options.hs_token = k_hs_token;
    options.max_body_bytes = 64 * 1024;
    adapters::AppserviceHandlers handlers;
    handlers.transaction = [this](const std::string& txn_id, const json& events) -> model::Result<void> {
      std::lock_guard<std::mutex> lock(heard.mutex);
      heard.transactions.emplace_back(txn_id, events);
      return {};
    };
    handlers.user = [this](const std::string& user_id) {
      std::lock_guard<std::mutex> lock(heard.mutex);
      heard.users.push_back(user_id);
      if (user_id == "@broken:x") {
        return adapters::QueryAnswer::failed;
      }
      return user_id == "@known:x" ? adapters::QueryAnswer::exists : adapters::QueryAnswer::absent;
    };
    handlers.room_alias = [this](const std::string& alias) {
      std::lock_guard<std::mutex> lock(heard.mutex);
      heard.aliases.push_back(alias);
      return alias == "#known:x" ? adapters::QueryAnswer::exists : adapters::QueryAnswer::absent;
    };
    listener = std::make_unique<adapters::AppserviceListener>(options, handlers);
    auto started = listener->start();
    REQUIRE(started);
    client = std::make_unique<httplib::Client>("127.0.0.1", listener->port());
  }

  Heard heard;
  std::unique_ptr<adapters::AppserviceListener> listener;
  std::unique_ptr<httplib::Client> client;
};

httplib::Headers bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

std::string errcode(const httplib::Result& result) {
  json body = json::parse(result->body, nullptr, false);
  return body.is_object() ? body.value("errcode", "") : "";
}

const std::string k_transaction = R"({"events": [{"type": "m.room.topic", "room_id": "!a:x", "event_id": "$1",
                                      "sender": "@someone:x", "state_key": "", "origin_server_ts": 1,
                                      "content": {"topic": "drift"}}]})";

}  // namespace

TEST_CASE("appservice listener: the hs_token is required, as a Bearer header or the legacy query parameter",
          "[appservice]") {
  Served served;
  httplib::Client& client = *served.client;
  const std::string path = "/_matrix/app/v1/transactions/1";

  SECTION("none at all: 401 M_UNAUTHORIZED, nothing done") {
    auto result = client.Put(path.c_str(), k_transaction, "application/json");
    REQUIRE(result);
    CHECK(result->status == 401);
    CHECK(errcode(result) == "M_UNAUTHORIZED");
  }
  SECTION("a wrong Bearer token: 403 M_FORBIDDEN") {
    auto result = client.Put(path.c_str(), bearer("guess"), k_transaction, "application/json");
    REQUIRE(result);
    CHECK(result->status == 403);
    CHECK(errcode(result) == "M_FORBIDDEN");
  }
  SECTION("another scheme is no credential: 401") {
    auto result = client.Put(path.c_str(), {{"Authorization", "Basic " + k_hs_token}}, k_transaction,
                             "application/json");
    REQUIRE(result);
    CHECK(result->status == 401);
  }
  SECTION("a wrong access_token query parameter: 403 M_FORBIDDEN") {
    auto result = client.Put((path + "?access_token=guess").c_str(), k_transaction, "application/json");
    REQUIRE(result);
    CHECK(result->status == 403);
    CHECK(errcode(result) == "M_FORBIDDEN");
  }
  SECTION("both given, one wrong: 403") {
    auto result = client.Put((path + "?access_token=guess").c_str(), bearer(k_hs_token), k_transaction,
                             "application/json");
    REQUIRE(result);
    CHECK(result->status == 403);
  }
  SECTION("the right Bearer token: 200 {}") {
    auto result = client.Put(path.c_str(), bearer(k_hs_token), k_transaction, "application/json");
    REQUIRE(result);
    CHECK(result->status == 200);
    CHECK(json::parse(result->body) == json::object());
  }
  SECTION("the right token as Synapse 1.67 sends it (query parameter, legacy route)") {
    auto result = client.Put(("/transactions/1?access_token=" + k_hs_token).c_str(), k_transaction,
                             "application/json");
    REQUIRE(result);
    CHECK(result->status == 200);
  }
  std::lock_guard<std::mutex> lock(served.heard.mutex);
  const bool authorized = !served.heard.transactions.empty();
  for (const auto& [txn_id, events] : served.heard.transactions) {
    CHECK(txn_id == "1");
    CHECK(events.size() == 1);
  }
  // Refused requests never reach the handler.
  CHECK(served.heard.transactions.size() == (authorized ? 1u : 0u));
}

TEST_CASE("appservice listener: a transaction that is not the spec's shape is refused with 400", "[appservice]") {
  Served served;
  httplib::Client& client = *served.client;
  auto put = [&](const std::string& body) {
    return client.Put("/_matrix/app/v1/transactions/7", bearer(k_hs_token), body, "application/json");
  };
  SECTION("not JSON: M_NOT_JSON") {
    auto result = put("{events: ");
    REQUIRE(result);
    CHECK(result->status == 400);
    CHECK(errcode(result) == "M_NOT_JSON");
  }
  SECTION("not an object, no events, events not an array, an event not an object: M_BAD_JSON") {
    for (const char* body : {"[]", "{}", R"({"events": {}})", R"({"events": [1]})",
                             R"({"events": [], "ephemeral": 3})"}) {
      auto result = put(body);
      REQUIRE(result);
      CHECK(result->status == 400);
      CHECK(errcode(result) == "M_BAD_JSON");
    }
  }
  SECTION("larger than the bound: 413, not read") {
    auto result = put(R"({"events": [], "padding": ")" + std::string(100 * 1024, 'x') + "\"}");
    REQUIRE(result);
    CHECK(result->status == 413);
  }
  SECTION("ephemeral data is allowed beside the events") {
    auto result = put(R"({"events": [], "ephemeral": []})");
    REQUIRE(result);
    CHECK(result->status == 200);
  }
  std::lock_guard<std::mutex> lock(served.heard.mutex);
  CHECK(served.heard.transactions.size() <= 1u);
}

TEST_CASE("appservice listener: user and alias queries, ping, unknown routes", "[appservice]") {
  Served served;
  httplib::Client& client = *served.client;
  const httplib::Headers auth = bearer(k_hs_token);

  auto known_user = client.Get("/_matrix/app/v1/users/%40known%3Ax", auth);
  REQUIRE(known_user);
  CHECK(known_user->status == 200);
  CHECK(json::parse(known_user->body) == json::object());
  auto other_user = client.Get("/_matrix/app/v1/users/%40other%3Ax", auth);
  REQUIRE(other_user);
  CHECK(other_user->status == 404);
  CHECK(errcode(other_user) == "M_NOT_FOUND");
  auto broken = client.Get("/_matrix/app/v1/users/%40broken%3Ax", auth);
  REQUIRE(broken);
  CHECK(broken->status == 500);
  auto legacy_user = client.Get(("/users/%40known%3Ax?access_token=" + k_hs_token).c_str());
  REQUIRE(legacy_user);
  CHECK(legacy_user->status == 200);

  auto known_alias = client.Get("/_matrix/app/v1/rooms/%23known%3Ax", auth);
  REQUIRE(known_alias);
  CHECK(known_alias->status == 200);
  auto other_alias = client.Get("/rooms/%23other%3Ax", auth);
  REQUIRE(other_alias);
  CHECK(other_alias->status == 404);
  CHECK(errcode(other_alias) == "M_NOT_FOUND");
  auto unauthenticated = client.Get("/_matrix/app/v1/rooms/%23known%3Ax");
  REQUIRE(unauthenticated);
  CHECK(unauthenticated->status == 401);

  auto ping = client.Post("/_matrix/app/v1/ping", auth, R"({"transaction_id": "t1"})", "application/json");
  REQUIRE(ping);
  CHECK(ping->status == 200);
  CHECK(json::parse(ping->body) == json::object());
  auto wrong_ping = client.Post("/_matrix/app/v1/ping", bearer("guess"), "{}", "application/json");
  REQUIRE(wrong_ping);
  CHECK(wrong_ping->status == 403);
  CHECK(errcode(wrong_ping) == "M_FORBIDDEN");

  auto unknown = client.Get("/_matrix/app/v1/thirdparty/protocol/irc", auth);
  REQUIRE(unknown);
  CHECK(unknown->status == 404);
  CHECK(errcode(unknown) == "M_UNRECOGNIZED");
  auto wrong_method = client.Get("/_matrix/app/v1/transactions/3", auth);
  REQUIRE(wrong_method);
  CHECK(wrong_method->status == 405);
  CHECK(errcode(wrong_method) == "M_UNRECOGNIZED");

  std::lock_guard<std::mutex> lock(served.heard.mutex);
  CHECK(served.heard.users == std::vector<std::string>{"@known:x", "@other:x", "@broken:x", "@known:x"});
  CHECK(served.heard.aliases == std::vector<std::string>{"#known:x", "#other:x"});
}

TEST_CASE("appservice listener: stop() ends serving and can be called again", "[appservice]") {
  Served served;
  const int port = served.listener->port();
  served.listener->stop();
  served.listener->stop();
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(1, 0);
  CHECK(!client.Get("/_matrix/app/v1/users/%40known%3Ax", bearer(k_hs_token)));
}

TEST_CASE("transaction feed: pushed events wake a wait with their rooms, own writes and unmanaged rooms do not",
          "[appservice]") {
  adapters::OwnWrites own;
  adapters::TransactionFeed feed(&own, std::chrono::milliseconds(0));
  feed.set_room_filter([](const std::string& room_id) { return room_id != "!elsewhere:x"; });
  const json drift = {{"type", "m.room.topic"}, {"room_id", "!a:x"}, {"event_id", "$drift"}, {"sender", "@p:x"},
                      {"state_key", ""}, {"content", {{"topic", "changed"}}}};
  const json ours = {{"type", "m.room.topic"}, {"room_id", "!b:x"}, {"event_id", "$ours"}, {"sender", "@bot:x"},
                     {"state_key", ""}, {"content", {{"topic", "repaired"}}}};
  const json unmanaged = {{"type", "m.room.message"}, {"room_id", "!elsewhere:x"}, {"event_id", "$m"},
                          {"sender", "@p:x"}, {"content", {{"body", "hi"}}}};

  SECTION("a quiet wait times out with nothing") {
    auto notice = feed.wait("", std::chrono::milliseconds(10));
    REQUIRE(notice);
    CHECK(!notice->changed());
  }
  SECTION("drift names its room") {
    feed.push(json::array({drift, unmanaged}));
    auto notice = feed.wait("", std::chrono::seconds(5));
    REQUIRE(notice);
    CHECK(notice->rooms == std::set<std::string>{"!a:x"});
  }
  SECTION("an own write is only_own_writes, and taken once") {
    own.add_event("$ours");
    feed.push(json::array({ours}));
    auto notice = feed.wait("", std::chrono::seconds(5));
    REQUIRE(notice);
    CHECK(!notice->changed());
    CHECK(notice->only_own_writes);
    feed.push(json::array({ours}));  // the same event id again is someone else's doing now
    auto again = feed.wait("", std::chrono::seconds(5));
    REQUIRE(again);
    CHECK(again->rooms == std::set<std::string>{"!b:x"});
  }
  SECTION("an unmanaged room's event keeps the wait waiting") {
    feed.push(json::array({unmanaged}));
    auto notice = feed.wait("", std::chrono::milliseconds(50));
    REQUIRE(notice);
    CHECK(!notice->changed());
    CHECK(!notice->only_own_writes);
  }
  SECTION("a wait in another thread ends at once when cancelled") {
    std::atomic<bool> ended{false};
    std::thread waiter([&] {
      auto notice = feed.wait("", std::chrono::seconds(60));
      CHECK(!notice);
      ended = true;
    });
    feed.cancel();
    waiter.join();
    CHECK(ended);
  }
}

}  // namespace appservice_listener_test
