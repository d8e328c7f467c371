#include <catch2/catch.hpp>

#include <httplib.h>

#include <atomic>
#include <thread>

#include "adapters/homeserver/sync_state.h"

namespace sync_state_test {

namespace {

const std::string k_marker = "org.mxctl.managed";

nlohmann::json state_event(const std::string& type, const std::string& key, nlohmann::json content) {
  return {{"type", type},       {"state_key", key}, {"content", std::move(content)}, {"event_id", "$" + type + key},
          {"sender", "@b:x"}, {"origin_server_ts", 1}, {"unsigned", {{"age", 5}}}};
}

nlohmann::json joined(std::vector<nlohmann::json> state, std::vector<nlohmann::json> timeline = {}) {
  return {{"state", {{"events", state}}}, {"timeline", {{"events", timeline}}}};
}

model::Settings settings() {
  model::Settings s;
  s.marker_event_type = k_marker;
  s.instance = "default";
  return s;
}

nlohmann::json marker(const std::string& key) {
  return state_event(k_marker, "", {{"key", key}, {"instance", "default"}});
}

// A homeserver double answering /sync with `answer(since)` (status, body).
class SyncServer {
 public:
  using Answer = std::function<std::pair<int, std::string>(const std::string& since)>;
  explicit SyncServer(Answer answer) : m_answer(std::move(answer)) {
    m_server.Get(".*", [this](const httplib::Request& req, httplib::Response& res) {
      ++m_requests;
      auto [status, body] = m_answer(req.has_param("since") ? req.get_param_value("since") : "");
      res.status = status;
      res.set_content(body, "application/json");
    });
    m_port = m_server.bind_to_any_port("127.0.0.1");
    m_thread = std::thread([this] { m_server.listen_after_bind(); });
    while (!m_server.is_running()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  ~SyncServer() {
    m_server.stop();
    m_thread.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }
  int requests() const { return m_requests; }

 private:
  Answer m_answer;
  httplib::Server m_server;
  int m_port = 0;
  std::thread m_thread;
  std::atomic<int> m_requests{0};
};

adapters::ClientOptions quick_retries() {
  adapters::ClientOptions options;
  options.read_backoff = std::chrono::milliseconds(1);
  return options;
}

const std::string k_sync_path = "/_matrix/client/v3/sync?timeout=0";

}  // namespace

TEST_CASE("sync state: an event is kept with type, state key, sender and content only", "[sync_state]") {
  nlohmann::json compact = adapters::compact_event(state_event("m.room.name", "", {{"name", "A"}}));
  CHECK(compact == nlohmann::json{{"type", "m.room.name"}, {"state_key", ""}, {"sender", "@b:x"}, {"content", {{"name", "A"}}}});
}

TEST_CASE("sync state: the observation's /sync asks for only the fields an event is kept with", "[sync_state]") {
  const nlohmann::json observing = nlohmann::json::parse(adapters::fresh_sync_filter(0, true));
  REQUIRE(observing.contains("event_fields"));
  nlohmann::json wanted = nlohmann::json::object();
  for (const nlohmann::json& field : observing["event_fields"]) {
    wanted[field.get<std::string>()] = true;
  }
  const nlohmann::json compact = adapters::compact_event(state_event("m.room.name", "", {{"name", "A"}}));
  nlohmann::json kept = nlohmann::json::object();
  for (auto field = compact.begin(); field != compact.end(); ++field) {
    kept[field.key()] = true;
  }
  CHECK(wanted == kept);
  // The change feed tells its own writes by their event ids: it asks for all.
  CHECK_FALSE(nlohmann::json::parse(adapters::fresh_sync_filter(1)).contains("event_fields"));
}

TEST_CASE("sync state: joined rooms are handed over one by one and dropped from the answer", "[sync_state]") {
  nlohmann::json sync = {{"next_batch", "s2"},
                         {"rooms",
                          {{"join", {{"!a:x", joined({state_event("m.room.name", "", {{"name", "A"}})})}, {"!b:x", joined({})}}},
                           {"leave", {{"!gone:x", nlohmann::json::object()}}}}}};
  std::vector<std::string> seen;
  int documents = 0;
  auto filter = adapters::stream_joined_rooms([&] { ++documents; },
                                              [&](const std::string& room_id, const nlohmann::json& room) {
                                                seen.push_back(room_id + ":" + std::to_string(room.size()));
                                              });
  nlohmann::json rest = nlohmann::json::parse(sync.dump(), filter);
  CHECK(documents == 1);
  CHECK(seen == std::vector<std::string>{"!a:x:2", "!b:x:2"});
  CHECK(rest["rooms"]["join"].empty());
  CHECK(rest["rooms"]["leave"].contains("!gone:x"));
  CHECK(rest["next_batch"] == "s2");
  SECTION("a second answer (a retried request) starts a new document") {
    CHECK(nlohmann::json::parse(sync.dump(), filter)["next_batch"] == "s2");
    CHECK(documents == 2);
  }
}

TEST_CASE("sync state: a room's entry replaces and adds state events and ignores messages", "[sync_state]") {
  adapters::RoomState state;
  state[{"m.room.name", ""}] = adapters::compact_event(state_event("m.room.name", "", {{"name", "A"}}));
  state[{"m.room.topic", ""}] = adapters::compact_event(state_event("m.room.topic", "", {{"topic", "t"}}));
  nlohmann::json entry = joined({state_event("m.room.name", "", {{"name", "A2"}})},
                                {state_event("m.room.member", "@u:x", {{"membership", "join"}}),
                                 {{"type", "m.room.message"}, {"content", {{"body", "hi"}}}}});
  CHECK(adapters::absorb_sync_room(entry, state));
  CHECK(state.size() == 3);  // name replaced, topic kept, member added; the message ignored
  CHECK(state.at({"m.room.name", ""})["content"]["name"] == "A2");
  CHECK(state.at({"m.room.topic", ""})["content"]["topic"] == "t");
  CHECK(state.at({"m.room.member", "@u:x"})["content"]["membership"] == "join");
  CHECK_FALSE(state.at({"m.room.member", "@u:x"}).contains("event_id"));
  CHECK_FALSE(adapters::absorb_sync_room(joined({}), state));
}

// `texts` as a base to fold into; `digests` holds their digests meanwhile.
adapters::SnapshotBase base_of(const std::map<std::string, std::string>& texts,
                               std::map<std::string, std::string>& digests) {
  digests.clear();
  for (const auto& [room_id, text] : texts) {
    digests[room_id] = adapters::snapshot_digest(text);
  }
  return adapters::snapshots_in(texts, digests);
}

TEST_CASE("sync state: snapshots round-trip and junk is refused", "[sync_state]") {
  adapters::RoomState state;
  state[{"m.room.name", ""}] = adapters::compact_event(state_event("m.room.name", "", {{"name", "A"}}));
  auto back = adapters::parse_snapshot(adapters::snapshot_text(state));
  REQUIRE(back);
  CHECK(*back == state);
  CHECK(adapters::snapshot_text({}) == "[]");
  CHECK_FALSE(adapters::parse_snapshot("{\"not\": \"an array\"}"));
  CHECK_FALSE(adapters::parse_snapshot("garbage"));
}

TEST_CASE("sync state: the bot's rooms read in full, then only what changed", "[sync_state][http]") {
  nlohmann::json full = {
      {"next_batch", "s1"},
      {"rooms",
       {{"join",
         {{"!a:x", joined({marker("community/a"), state_event("m.room.name", "", {{"name", "A"}}),
                           state_event("m.space.child", "!b:x", {{"via", {"x"}}})})},
          {"!b:x", joined({marker("community/a/general"), state_event("m.room.name", "", {{"name", "B"}})})},
          {"!c:x", joined({state_event("m.room.name", "", {{"name", "C"}})})}}}}}};
  nlohmann::json changes = {
      {"next_batch", "s2"},
      {"rooms",
       {{"join",
         {{"!b:x", joined({}, {state_event("m.room.name", "", {{"name", "B2"}})})},
          {"!d:x", joined({marker("council/d")})}}},
        {"leave", {{"!c:x", nlohmann::json::object()}}}}}};
  bool token_known = true;
  int failures_left = 0;
  SyncServer server([&](const std::string& since) -> std::pair<int, std::string> {
    if (failures_left > 0) {
      --failures_left;
      return {502, "{}"};
    }
    if (since.empty()) {
      return {200, full.dump()};
    }
    if (!token_known) {
      return {400, R"({"errcode":"M_UNKNOWN","error":"Invalid stream token"})"};
    }
    if (since == "s2") {
      // A message in one room, no state: nothing changed for mxctl.
      nlohmann::json quiet = {
          {"next_batch", "s3"},
          {"rooms",
           {{"join",
             {{"!a:x", joined({}, {{{"type", "m.room.message"}, {"sender", "@b:x"}, {"content", {{"body", "hi"}}}}})}}}}}};
      return {200, quiet.dump()};
    }
    if (since == "s5" || since == "s6") {
      // A member's own join (s5), or the bot inviting someone (s6).
      nlohmann::json member = state_event("m.room.member", "@m:x", {{"membership", since == "s5" ? "join" : "invite"}});
      member["sender"] = since == "s5" ? "@m:x" : "@b:x";
      nlohmann::json answer = {{"next_batch", "s7"}};
      answer["rooms"]["join"]["!a:x"] = joined({}, {member});
      return {200, answer.dump()};
    }
    if (since == "s99_1_0") {
      // As Synapse answers a token ahead of it: from its own position, s2.
      return {200, R"({"next_batch":"s2_1_0","rooms":{}})"};
    }
    return {200, changes.dump()};
  });
  adapters::MatrixClient client(server.url(), "token", quick_retries());

  auto first = adapters::read_bot_rooms(client, k_sync_path, "", {}, settings());
  REQUIRE(first);
  CHECK_FALSE(first->incremental);
  CHECK(first->sync_token == "s1");
  REQUIRE(first->rooms.size() == 3);
  CHECK(first->rooms.at("!a:x").observed.marker_key == "community/a");
  CHECK(first->rooms.at("!a:x").observed.room.children.at(0).key == "!b:x");  // links by id until resolved
  CHECK(first->rooms.at("!c:x").observed.marker_key.empty());
  REQUIRE(first->changed_snapshots.size() == 3);
  std::map<std::string, std::string> snapshots;
  std::map<std::string, std::string> digests;
  for (const auto& [room_id, text] : first->changed_snapshots) {
    REQUIRE(text);
    CHECK(text->find("event_id") == std::string::npos);
    snapshots[room_id] = *text;
  }

  SECTION("with the token: changed, new, unchanged and left rooms") {
    auto second = adapters::read_bot_rooms(client, k_sync_path, "s1", base_of(snapshots, digests), settings());
    REQUIRE(second);
    CHECK(second->incremental);
    CHECK(second->sync_token == "s2");
    CHECK(second->rooms.size() == 3);
    CHECK(second->rooms.at("!a:x").observed.room.name == "A");  // from its snapshot
    CHECK(second->rooms.at("!b:x").observed.room.name == "B2");
    CHECK(second->rooms.at("!b:x").observed.marker_key == "community/a/general");
    CHECK(second->rooms.at("!d:x").observed.marker_key == "council/d");
    CHECK(second->rooms.count("!c:x") == 0);
    CHECK(second->changed_snapshots.size() == 3);
    CHECK(second->changed_snapshots.at("!c:x") == std::nullopt);
    REQUIRE(second->changed_snapshots.at("!b:x"));
    CHECK(second->changed_snapshots.at("!b:x")->find("B2") != std::string::npos);
    CHECK(second->changed_snapshots.count("!a:x") == 0);
  }
  SECTION("an answer naming a room without a state event reads it as its snapshot") {
    auto second = adapters::read_bot_rooms(client, k_sync_path, "s2", base_of(snapshots, digests), settings());
    REQUIRE(second);
    CHECK(second->incremental);
    CHECK(second->sync_token == "s3");
    CHECK(second->rooms.size() == 3);
    CHECK(second->rooms.at("!a:x").observed.room.name == "A");
    CHECK(second->changed_snapshots.empty());
    CHECK_FALSE(second->unchanged);
  }
  SECTION("told to stop when nothing changed: no room is read, and the kept reads are not loaded") {
    int loads = 0;
    const adapters::KeptReads kept{"basis", nullptr, [&] {
                                     ++loads;
                                     return std::map<std::string, adapters::KeptRoomRead>{};
                                   }};
    auto quiet = adapters::read_bot_rooms(client, k_sync_path, "s2", base_of(snapshots, digests), settings(), nullptr,
                                          &kept, true);
    REQUIRE(quiet);
    CHECK(quiet->unchanged);
    CHECK(quiet->incremental);
    CHECK(quiet->sync_token == "s3");
    CHECK(quiet->rooms.empty());
    CHECK(loads == 0);
    // Changes are read in full, the kept reads loaded once for the rooms not named.
    auto changed = adapters::read_bot_rooms(client, k_sync_path, "s1", base_of(snapshots, digests), settings(),
                                            nullptr, &kept, true);
    REQUIRE(changed);
    CHECK_FALSE(changed->unchanged);
    CHECK(changed->rooms.size() == 3);
    CHECK(changed->rooms.at("!a:x").observed.room.name == "A");
    CHECK(changed->rooms.at("!b:x").observed.room.name == "B2");
    CHECK(loads == 1);
  }
  SECTION("changes say whether a member acted on their own membership") {
    auto joined_itself = adapters::read_bot_rooms(client, k_sync_path, "s5", base_of(snapshots, digests), settings());
    REQUIRE(joined_itself);
    CHECK(joined_itself->incremental);
    CHECK(joined_itself->members_acted);
    CHECK(joined_itself->rooms.at("!a:x").observed.members.at("@m:x").by_self);
    auto invited = adapters::read_bot_rooms(client, k_sync_path, "s6", base_of(snapshots, digests), settings());
    REQUIRE(invited);
    CHECK(invited->incremental);
    CHECK_FALSE(invited->members_acted);
    CHECK(invited->rooms.at("!a:x").observed.room.members.count("@m:x") == 1);
  }
  SECTION("a retried answer is read once") {
    failures_left = 1;
    auto second = adapters::read_bot_rooms(client, k_sync_path, "s1", base_of(snapshots, digests), settings());
    REQUIRE(second);
    CHECK(second->rooms.size() == 3);
    CHECK(second->changed_snapshots.size() == 3);
  }
  SECTION("a token the server does not know: everything again") {
    token_known = false;
    auto second = adapters::read_bot_rooms(client, k_sync_path, "s1", base_of(snapshots, digests), settings());
    REQUIRE(second);
    CHECK_FALSE(second->incremental);
    CHECK(second->sync_token == "s1");
    CHECK(second->rooms.size() == 3);
    CHECK(second->rooms.at("!b:x").observed.room.name == "B");
  }
  SECTION("a token ahead of the server (it never issued it): everything again") {
    auto second = adapters::read_bot_rooms(client, k_sync_path, "s99_1_0", base_of(snapshots, digests), settings());
    REQUIRE(second);
    CHECK_FALSE(second->incremental);
    CHECK(second->sync_token == "s1");
    CHECK(second->rooms.size() == 3);
    CHECK(second->rooms.at("!b:x").observed.room.name == "B");
  }
  SECTION("a token with no snapshots behind it: everything again") {
    auto second = adapters::read_bot_rooms(client, k_sync_path, "s1", {}, settings());
    REQUIRE(second);
    CHECK_FALSE(second->incremental);
    CHECK(second->rooms.size() == 3);
  }
  SECTION("an unreadable snapshot: everything again") {
    snapshots["!a:x"] = "garbage";
    auto second = adapters::read_bot_rooms(client, k_sync_path, "s1", base_of(snapshots, digests), settings());
    REQUIRE(second);
    CHECK_FALSE(second->incremental);
    CHECK(second->rooms.size() == 3);
    CHECK(second->changed_snapshots.size() == 3);
  }
  SECTION("a room the store knew but the server no longer lists is dropped from the store") {
    snapshots["!old:x"] = "[]";
    token_known = false;
    auto second = adapters::read_bot_rooms(client, k_sync_path, "s1", base_of(snapshots, digests), settings());
    REQUIRE(second);
    CHECK(second->changed_snapshots.at("!old:x") == std::nullopt);
  }
  SECTION("a server error that is not about the token is an error") {
    failures_left = 100;
    auto second = adapters::read_bot_rooms(client, k_sync_path, "s1", base_of(snapshots, digests), settings());
    REQUIRE_FALSE(second);
    CHECK(second.error().message.find("cannot read changes to the bot's rooms (/sync)") == 0);
  }
}

TEST_CASE("sync state: the stream position of a token, where its form tells it", "[sync_state]") {
  CHECK(adapters::token_position("s72594_4483_1934_1_1_1_1_4_1") == 72594);
  CHECK(adapters::token_position("s12") == 12);
  CHECK(adapters::token_position("m56~2.58~3.59_4_0") == 56);
  CHECK(adapters::token_position("1234") == 1234);
  CHECK_FALSE(adapters::token_position(""));
  CHECK_FALSE(adapters::token_position("not-a-token"));
  CHECK_FALSE(adapters::token_position("s12abc"));
  CHECK_FALSE(adapters::token_position("t426-2633508"));
  CHECK_FALSE(adapters::token_position("12_3"));
  CHECK_FALSE(adapters::token_position("s99999999999999999999999"));
}

}  // namespace sync_state_test
