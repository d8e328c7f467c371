// HttpHomeserver's observation against a loopback server that answers like
// Synapse does where Synapse can mislead: an incremental /sync that misses a
// change GET /rooms/{id}/state shows (a forked room), /sync refused to an
// appservice's sender, and an alias that resolves before the new room's
// marker can be read.

#include <catch2/catch.hpp>

#include <httplib.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <mutex>
#include <thread>
#include <vector>

#include "adapters/homeserver/http_homeserver.h"

namespace http_homeserver_observe_test {

namespace {

const std::string k_bot = "@mxctl:example.org";
const std::string k_marker = "org.mxctl.managed";
const std::string k_client = "/_matrix/client/v3";

struct Reply {
  int status = 200;
  nlohmann::json body = nlohmann::json::object();
};

Reply error(int status, const std::string& errcode, const std::string& message) {
  return {status, {{"errcode", errcode}, {"error", message}}};
}

// Answers with `route` (method, decoded path, query `since`) and records
// "METHOD /path" of every request.
class Server {
 public:
  using Route = std::function<std::optional<Reply>(const std::string& method, const std::string& path,
                                                   const std::string& since)>;
  explicit Server(Route route) : m_route(std::move(route)) {
    auto handler = [this](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_calls.push_back(req.method + " " + req.path);
      }
      Reply reply = m_route(req.method, req.path, req.has_param("since") ? req.get_param_value("since") : "")
                        .value_or(error(404, "M_UNRECOGNIZED", "Unrecognized request"));
      res.status = reply.status;
      res.set_content(reply.body.dump(), "application/json");
    };
    m_server.Get(".*", handler);
    m_server.Post(".*", handler);
    m_server.Put(".*", handler);
    m_port = m_server.bind_to_any_port("127.0.0.1");
    m_thread = std::thread([this] { m_server.listen_after_bind(); });
    while (!m_server.is_running()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  ~Server() {
    m_server.stop();
    m_thread.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }
  std::vector<std::string> calls() {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_calls;
  }
  void clear() {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_calls.clear();
  }
  long count(const std::string& call) {
    auto all = calls();
    return std::count(all.begin(), all.end(), call);
  }

 private:
  Route m_route;
  httplib::Server m_server;
  std::thread m_thread;
  int m_port = 0;
  std::mutex m_mutex;
  std::vector<std::string> m_calls;
};

nlohmann::json event(const std::string& type, const std::string& state_key, nlohmann::json content,
                     const std::string& sender = k_bot) {
  return {{"type", type},       {"state_key", state_key},      {"sender", sender},
          {"content", content}, {"event_id", "$" + type + state_key}, {"origin_server_ts", 1}};
}

// The state of a managed room, as GET /rooms/{id}/state answers it.
nlohmann::json room_state(const std::string& key, const std::string& name, const std::string& creator = k_bot) {
  return nlohmann::json::array({event("m.room.create", "", {{"room_version", "10"}}, creator),
                                event("m.room.member", k_bot, {{"membership", "join"}}),
                                event(k_marker, "", {{"key", key}, {"instance", "default"}}),
                                event("m.room.canonical_alias", "", {{"alias", "#mxctl." + key + ":example.org"}}),
                                event("m.room.name", "", {{"name", name}})});
}

model::Settings settings_for(const Server& server, model::ProvisioningMode mode) {
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

model::Room desired_room(const std::string& key, const std::string& name) {
  model::Room room;
  room.key = key;
  room.alias = "#mxctl." + key + ":example.org";
  room.name = name;
  return room;
}

model::MatrixState desired_rooms(const std::vector<std::string>& keys) {
  model::MatrixState desired;
  for (const std::string& key : keys) {
    desired.rooms[key] = desired_room(key, key);
  }
  return desired;
}

nlohmann::json joined(const nlohmann::json& state) {
  return {{"state", {{"events", state}}}, {"timeline", {{"events", nlohmann::json::array()}, {"limited", true}}}};
}

// Gives `hints` the snapshots `texts` as a store holding them would: their
// digests, and each text when asked for.
void give_snapshots(adapters::ObserveHints& hints, const std::map<std::string, std::string>& texts) {
  auto held = std::make_shared<const std::map<std::string, std::string>>(texts);
  hints.room_snapshot_digests.clear();
  for (const auto& [room_id, text] : *held) {
    hints.room_snapshot_digests[room_id] = adapters::snapshot_digest(text);
  }
  hints.room_snapshot = [held](const std::string& room_id) -> std::optional<std::string> {
    auto found = held->find(room_id);
    return found == held->end() ? std::nullopt : std::optional<std::string>(found->second);
  };
}

}  // namespace

TEST_CASE("http homeserver: rooms mxctl wrote to are re-read with /state, which sees what /sync missed",
          "[http][observe]") {
  // Synapse after a fork: the incremental /sync leaves out a change that
  // /state shows, in both rooms.
  std::map<std::string, std::string> names = {{"!a:example.org", "A"}, {"!b:example.org", "B"}};
  const std::map<std::string, std::string> keys = {{"!a:example.org", "a"}, {"!b:example.org", "b"}};
  Server server([&](const std::string&, const std::string& path, const std::string& since) -> std::optional<Reply> {
    if (path == k_client + "/sync") {
      if (!since.empty()) {
        return Reply{200, {{"next_batch", "s2"}}};  // the forked change is not there
      }
      nlohmann::json join = nlohmann::json::object();
      for (const auto& [room_id, name] : names) {
        join[room_id] = joined(room_state(keys.at(room_id), name));
      }
      return Reply{200, {{"next_batch", "s1"}, {"rooms", {{"join", join}}}}};
    }
    for (const auto& [room_id, name] : names) {
      if (path == k_client + "/rooms/" + room_id + "/state") {
        if (name == "down") {
          return error(502, "M_UNKNOWN", "Bad gateway");
        }
        return Reply{200, room_state(keys.at(room_id), name)};
      }
    }
    return std::nullopt;
  });
  adapters::HttpHomeserver homeserver(settings_for(server, model::ProvisioningMode::synapse_admin), "token", quick());
  model::MatrixState desired = desired_rooms({"a", "b"});
  auto first = homeserver.observe(desired, {});
  REQUIRE(first);
  REQUIRE(first->sync_token == "s1");
  adapters::ObserveHints hints;
  hints.sync_token = first->sync_token;
  hints.room_ids = first->room_ids;
  std::map<std::string, std::string> texts;
  for (const auto& [room_id, snapshot] : first->changed_snapshots) {
    REQUIRE(snapshot);
    texts[room_id] = *snapshot;
  }
  give_snapshots(hints, texts);
  names = {{"!a:example.org", "A2"}, {"!b:example.org", "B2"}};
  server.clear();

  SECTION("a room in the hint: its state is what /state says, and it is saved as its snapshot") {
    hints.rooms_written = {"!a:example.org", "!gone:example.org"};
    auto second = homeserver.observe(desired, hints);
    REQUIRE(second);
    CHECK(second->incremental);
    CHECK(second->sync_token == "s2");
    CHECK(second->state.rooms.at("a").room.name == "A2");
    REQUIRE(second->changed_snapshots.count("!a:example.org"));
    REQUIRE(second->changed_snapshots.at("!a:example.org"));
    CHECK(second->changed_snapshots.at("!a:example.org")->find("A2") != std::string::npos);
    // Not in the hint: folded from /sync, which missed the change, and not asked for.
    CHECK(second->state.rooms.at("b").room.name == "B");
    CHECK(second->changed_snapshots.count("!b:example.org") == 0);
    // A room the bot is no longer in is not asked for either.
    CHECK(server.calls() == std::vector<std::string>{"GET " + k_client + "/sync",
                                                     "GET " + k_client + "/rooms/!a:example.org/state"});
  }
  SECTION("without the hint the change stays unseen, and nothing is re-read") {
    auto second = homeserver.observe(desired, hints);
    REQUIRE(second);
    CHECK(second->state.rooms.at("a").room.name == "A");
    CHECK(server.calls() == std::vector<std::string>{"GET " + k_client + "/sync"});
  }
  SECTION("a room in the hint that cannot be read for another reason: the observation fails") {
    names["!a:example.org"] = "down";
    hints.rooms_written = {"!a:example.org"};
    auto second = homeserver.observe(desired, hints);
    REQUIRE_FALSE(second);
    CHECK(second.error().kind == model::Error::Kind::transient);
    CHECK(second.error().message.find("cannot read the state of room !a:example.org: ") == 0);
  }
  SECTION("a room in the hint that the bot can no longer read is dropped with its snapshot") {
    names.erase("!a:example.org");  // /state: 404 from the route's default
    hints.rooms_written = {"!a:example.org"};
    auto second = homeserver.observe(desired, hints);
    REQUIRE(second);
    CHECK(second->state.rooms.count("a") == 0);
    REQUIRE(second->changed_snapshots.count("!a:example.org"));
    CHECK_FALSE(second->changed_snapshots.at("!a:example.org"));
  }
}

TEST_CASE("http homeserver: an appservice observes its rooms with /state, never /sync", "[http][appservice]") {
  // As Synapse answers an appservice's sender.
  const Reply refused = error(500, "M_UNKNOWN", "Internal server error");
  Server server([&](const std::string&, const std::string& path, const std::string&) -> std::optional<Reply> {
    if (path == k_client + "/sync") {
      return refused;
    }
    if (path == k_client + "/rooms/!a:example.org/state") {
      return Reply{200, room_state("a", "A")};
    }
    if (path == k_client + "/rooms/!b:example.org/state") {
      return Reply{200, room_state("b", "B")};
    }
    if (path == k_client + "/rooms/!squat:example.org/state") {
      nlohmann::json state = room_state("d", "D", "@eve:example.org");
      state.erase(2);  // no marker: someone else's room holding our alias
      return Reply{200, state};
    }
    if (path == k_client + "/rooms/!old:example.org/state") {
      return error(403, "M_FORBIDDEN", "User not in room");
    }
    if (path == k_client + "/directory/room/#mxctl.b:example.org") {
      return Reply{200, {{"room_id", "!b:example.org"}}};
    }
    if (path == k_client + "/directory/room/#mxctl.d:example.org") {
      return Reply{200, {{"room_id", "!squat:example.org"}}};
    }
    if (path.rfind(k_client + "/directory/room/", 0) == 0) {
      return error(404, "M_NOT_FOUND", "Room alias not found");
    }
    return std::nullopt;
  });
  adapters::HttpHomeserver homeserver(settings_for(server, model::ProvisioningMode::appservice), "as_token", quick());
  model::MatrixState desired = desired_rooms({"a", "b", "c", "d"});
  adapters::ObserveHints hints;
  hints.room_ids = {{"a", "!a:example.org"}, {"gone", "!old:example.org"}};
  hints.sync_token = "s9";  // from a synapse-admin past: not used, and forgotten
  give_snapshots(hints, {{"!a:example.org", "[]"}});
  hints.rooms_written = {"!a:example.org"};

  auto observed = homeserver.observe(desired, hints);
  INFO((observed ? "" : observed.error().message));
  REQUIRE(observed);
  CHECK(server.count("GET " + k_client + "/sync") == 0);
  // The store's rooms (read together, in any order), then the aliases of
  // desired rooms none of them is; each alias once, each room once.
  std::vector<std::string> calls = server.calls();
  REQUIRE(calls.size() == 7);
  std::sort(calls.begin(), calls.begin() + 2);
  CHECK(calls == std::vector<std::string>{
                              "GET " + k_client + "/rooms/!a:example.org/state",
                              "GET " + k_client + "/rooms/!old:example.org/state",
                              "GET " + k_client + "/directory/room/#mxctl.b:example.org",
                              "GET " + k_client + "/rooms/!b:example.org/state",
                              "GET " + k_client + "/directory/room/#mxctl.c:example.org",
                              "GET " + k_client + "/directory/room/#mxctl.d:example.org",
                              "GET " + k_client + "/rooms/!squat:example.org/state",
                          });
  CHECK(observed->room_ids == std::map<std::string, std::string>{{"a", "!a:example.org"}, {"b", "!b:example.org"}});
  CHECK(observed->state.rooms.at("a").room.name == "A");
  CHECK(observed->state.rooms.at("b").room.name == "B");
  CHECK(observed->state.alias_clashes == std::map<std::string, std::string>{{"d", "!squat:example.org"}});
  CHECK(observed->sync_token.empty());
  CHECK_FALSE(observed->incremental);
  CHECK(observed->changed_snapshots ==
        std::map<std::string, std::optional<std::string>>{{"!a:example.org", std::nullopt}});
}

namespace {

// Synapse between registering a new room's alias and persisting its events:
// /state is 403 (the bot not in the room yet) for `forbidden` reads, then
// shows the room without its marker for `unmarked` reads, then with it.
struct NewRoom {
  int forbidden = 0;
  int unmarked = 0;
  std::string creator = k_bot;
  int reads = 0;

  Reply state(const std::string& key) {
    ++reads;
    if (reads <= forbidden) {
      return error(403, "M_FORBIDDEN", "User " + k_bot + " not in room !new:example.org");
    }
    nlohmann::json full = room_state(key, key, creator);
    if (reads <= forbidden + unmarked || creator != k_bot) {
      full.erase(2);
    }
    return {200, full};
  }
};

adapters::CreationWait brief_wait() { return {std::chrono::milliseconds(3000), std::chrono::milliseconds(5)}; }

}  // namespace

TEST_CASE("http homeserver: a room mxctl created whose marker is not readable yet is waited for, not refused",
          "[http][creation]") {
  NewRoom room;
  room.forbidden = 2;
  room.unmarked = 2;
  std::mutex mutex;
  Server server([&](const std::string& method, const std::string& path, const std::string&) -> std::optional<Reply> {
    std::lock_guard<std::mutex> lock(mutex);
    if (path == k_client + "/sync") {
      return Reply{200, {{"next_batch", "s1"}}};  // not joined yet when /sync answered
    }
    if (path == k_client + "/directory/room/#mxctl.a:example.org") {
      return Reply{200, {{"room_id", "!new:example.org"}}};
    }
    if (path == k_client + "/rooms/!new:example.org/state") {
      return room.state("a");
    }
    if (path == k_client + "/rooms/!new:example.org/state/" + k_marker + "/") {
      return error(404, "M_NOT_FOUND", "Event not found.");
    }
    if (method == "POST" && path == k_client + "/createRoom") {
      return error(400, "M_ROOM_IN_USE", "Room alias already taken");
    }
    return std::nullopt;
  });
  adapters::HttpHomeserver homeserver(settings_for(server, model::ProvisioningMode::synapse_admin), "token", quick());
  homeserver.set_creation_wait(brief_wait());
  model::MatrixState desired = desired_rooms({"a"});
  adapters::ObserveHints hints;

  SECTION("observation: the journal has the creation and the bot made the room: it is found once marked") {
    hints.rooms_created = {"a"};
    auto observed = homeserver.observe(desired, hints);
    REQUIRE(observed);
    CHECK(observed->state.alias_clashes.empty());
    CHECK(observed->room_ids == std::map<std::string, std::string>{{"a", "!new:example.org"}});
    CHECK(observed->state.rooms.at("a").marker_key == "a");
    CHECK(room.reads == 5);
    REQUIRE(observed->changed_snapshots.count("!new:example.org"));
    CHECK(observed->changed_snapshots.at("!new:example.org")->find(k_marker) != std::string::npos);
    CHECK(server.count("GET " + k_client + "/directory/room/#mxctl.a:example.org") == 1);
  }
  SECTION("observation: without a journal record it is a clash at once") {
    auto observed = homeserver.observe(desired, hints);
    REQUIRE(observed);
    CHECK(observed->state.alias_clashes == std::map<std::string, std::string>{{"a", "!new:example.org"}});
    CHECK(room.reads == 0);
  }
  SECTION("observation: a room someone else created is a clash as soon as that can be read") {
    hints.rooms_created = {"a"};
    room.forbidden = 0;
    room.creator = "@eve:example.org";
    auto observed = homeserver.observe(desired, hints);
    REQUIRE(observed);
    CHECK(observed->state.alias_clashes == std::map<std::string, std::string>{{"a", "!new:example.org"}});
    CHECK(room.reads == 1);
  }
  SECTION("observation: a marker that never comes is waited for within the bound, then a clash") {
    hints.rooms_created = {"a"};
    room.unmarked = 1000000;
    homeserver.set_creation_wait({std::chrono::milliseconds(200), std::chrono::milliseconds(20)});
    auto observed = homeserver.observe(desired, hints);
    REQUIRE(observed);
    CHECK(observed->state.alias_clashes == std::map<std::string, std::string>{{"a", "!new:example.org"}});
    CHECK(room.reads >= 2);
    CHECK(room.reads <= 12);
  }

  model::Operation create;
  create.kind = model::Operation::Kind::create_room;
  create.room_key = "a";
  SECTION("createRoom: M_ROOM_IN_USE for a key the journal has: adopted once the marker shows") {
    hints.rooms_created = {"a"};
    room.forbidden = 0;
    room.unmarked = 1000000;  // /sync and observation do not see it
    homeserver.set_creation_wait({std::chrono::milliseconds(0), std::chrono::milliseconds(1)});
    REQUIRE(homeserver.observe(desired, hints));
    room.unmarked = room.reads + 2;
    homeserver.set_creation_wait(brief_wait());
    auto created = homeserver.execute(create, {&desired, {}});
    INFO((created ? "" : created.error().message));
    REQUIRE(created);
    CHECK(created->room_id == std::optional<std::string>("!new:example.org"));
    CHECK(created->already_done);
  }
  SECTION("createRoom: M_ROOM_IN_USE again after this process's own attempt: adopted once marked") {
    room.unmarked = 3;
    auto first = homeserver.execute(create, {&desired, {}});
    REQUIRE_FALSE(first);  // a fresh key: refused at once, as before
    CHECK(room.reads == 0);
    auto second = homeserver.execute(create, {&desired, {}});
    INFO((second ? "" : second.error().message));
    REQUIRE(second);
    CHECK(second->room_id == std::optional<std::string>("!new:example.org"));
  }
  SECTION("createRoom: someone else's room is refused, naming its creator") {
    hints.rooms_created = {"a"};
    room.creator = "@eve:example.org";
    homeserver.set_creation_wait({std::chrono::milliseconds(0), std::chrono::milliseconds(1)});
    REQUIRE(homeserver.observe(desired, hints));
    homeserver.set_creation_wait(brief_wait());
    const int before = room.reads;
    auto created = homeserver.execute(create, {&desired, {}});
    REQUIRE_FALSE(created);
    CHECK(created.error().kind == model::Error::Kind::conflict);
    CHECK(created.error().message ==
          "create room a (M_ROOM_IN_USE): alias #mxctl.a:example.org belongs to room !new:example.org (it was "
          "created by @eve:example.org); mxctl will not take it over");
    CHECK(room.reads - before <= 3);  // 403s while the bot joins, then the verdict at once
  }
}

namespace {

const std::string k_users = "/_synapse/admin/v2/users";

model::Account desired_account(const std::string& key, const std::string& display_name) {
  model::Account account;
  account.key = key;
  account.localpart = key;
  account.user_id = "@" + key + ":example.org";
  account.display_name = display_name;
  return account;
}

// A homeserver that, for each `since`, answers /sync with the changes
// scripted for it, and lists one account whose display name can change.
struct ScriptedServer {
  std::map<std::string, Reply> sync_by_since;
  std::string alice_name = "Alice";
  Server server{[this](const std::string& method, const std::string& path,
                       const std::string& since) -> std::optional<Reply> {
    if (path == k_client + "/sync") {
      auto found = sync_by_since.find(since);
      return found == sync_by_since.end() ? std::nullopt : std::optional<Reply>(found->second);
    }
    if (method == "GET" && path == k_users) {
      nlohmann::json alice = {{"name", "@alice:example.org"}, {"displayname", alice_name}, {"admin", false},
                              {"deactivated", false}, {"locked", false}};
      return Reply{200, {{"users", {alice}}, {"total", 1}}};
    }
    if (method == "PUT" && path == k_users + "/@alice:example.org") {
      return Reply{200, nlohmann::json::object()};
    }
    return std::nullopt;
  }};
};

// The /sync answer after s1: someone renamed room a to "A2".
Reply a_renamed_by_eve() {
  nlohmann::json renamed = {{"state", {{"events", {event("m.room.name", "", {{"name", "A2"}}, "@eve:example.org")}}}},
                            {"timeline", {{"events", nlohmann::json::array()}}}};
  return {200, {{"next_batch", "s2"}, {"rooms", {{"join", {{"!a:example.org", renamed}}}}}}};
}

adapters::ObserveHints hints_after(const adapters::Observation& observed) {
  adapters::ObserveHints hints;
  hints.sync_token = observed.sync_token;
  hints.room_ids = observed.room_ids;
  return hints;  // no snapshots: a port that holds them needs none
}

}  // namespace

TEST_CASE("http homeserver: a snapshot's text is read only when /sync mentions the room or no kept read matches",
          "[http][observe][room_reads]") {
  ScriptedServer scripted;
  nlohmann::json all = {{"!a:example.org", joined(room_state("a", "A"))},
                        {"!b:example.org", joined(room_state("b", "B"))}};
  scripted.sync_by_since[""] = {200, {{"next_batch", "s1"}, {"rooms", {{"join", all}}}}};
  scripted.sync_by_since["s1"] = a_renamed_by_eve();
  adapters::HttpHomeserver homeserver(settings_for(scripted.server, model::ProvisioningMode::synapse_admin), "token",
                                      quick());
  model::MatrixState desired = desired_rooms({"a", "b"});
  auto first = homeserver.observe(desired, {});
  REQUIRE(first);
  std::map<std::string, std::string> texts;
  for (const auto& [room_id, snapshot] : first->changed_snapshots) {
    REQUIRE(snapshot);
    texts[room_id] = *snapshot;
  }
  adapters::ObserveHints hints = hints_after(*first);
  give_snapshots(hints, texts);
  std::vector<std::string> fetched;
  auto fetch = hints.room_snapshot;
  hints.room_snapshot = [&fetched, fetch](const std::string& room_id) {
    fetched.push_back(room_id);
    return fetch(room_id);
  };

  // No kept reads yet: both texts are read, and both reads come out to keep.
  auto second = homeserver.observe(desired, hints);
  REQUIRE(second);
  CHECK(second->incremental);
  CHECK(second->state.rooms.at("a").room.name == "A2");
  CHECK(fetched == std::vector<std::string>{"!a:example.org", "!b:example.org"});
  REQUIRE(second->room_reads.size() == 2);

  SECTION("with the reads kept, only the room /sync mentions is read from its text") {
    fetched.clear();
    hints.room_reads = second->room_reads;
    auto third = homeserver.observe(desired, hints);
    REQUIRE(third);
    CHECK(third->state.rooms.at("a").room.name == "A2");
    CHECK(third->state.rooms.at("b").room.name == "B");
    CHECK(fetched == std::vector<std::string>{"!a:example.org"});
    CHECK(third->room_reads.empty());  // nothing new to keep
  }
  SECTION("a text that is not the one its digest names is not folded: everything is read afresh") {
    texts["!a:example.org"] = room_state("a", "Forged").dump();
    const std::string listed = hints.room_snapshot_digests.at("!a:example.org");
    give_snapshots(hints, texts);
    hints.room_snapshot_digests["!a:example.org"] = listed;
    auto third = homeserver.observe(desired, hints);
    REQUIRE(third);
    CHECK_FALSE(third->incremental);
    CHECK(third->state.rooms.at("a").room.name == "A");  // the full answer's
  }
  SECTION("a store that cannot give a text costs a full read") {
    hints.room_snapshot = [](const std::string&) { return std::optional<std::string>(); };
    auto third = homeserver.observe(desired, hints);
    REQUIRE(third);
    CHECK_FALSE(third->incremental);
    CHECK(third->state.rooms.at("b").room.name == "B");
  }
  SECTION("a port that remembers takes the texts it will fold into next from the store once") {
    homeserver.set_remember_observation(true);
    fetched.clear();
    hints.room_reads = second->room_reads;
    auto third = homeserver.observe(desired, hints);
    REQUIRE(third);
    CHECK(fetched == std::vector<std::string>{"!a:example.org", "!b:example.org"});
    REQUIRE(homeserver.holds_room_state("s2"));
    scripted.sync_by_since["s2"] = {200, {{"next_batch", "s3"}}};
    fetched.clear();
    auto fourth = homeserver.observe(desired, hints_after(*third));
    REQUIRE(fourth);
    CHECK(fetched.empty());
    CHECK(fourth->state.rooms.at("b").room.name == "B");
  }
}

TEST_CASE("http homeserver: a port that remembers folds /sync's changes into the rooms it read last",
          "[http][observe][remember]") {
  ScriptedServer scripted;
  nlohmann::json all = {{"!a:example.org", joined(room_state("a", "A"))},
                        {"!b:example.org", joined(room_state("b", "B"))}};
  scripted.sync_by_since[""] = {200, {{"next_batch", "s1"}, {"rooms", {{"join", all}}}}};
  scripted.sync_by_since["s1"] = a_renamed_by_eve();
  adapters::HttpHomeserver homeserver(settings_for(scripted.server, model::ProvisioningMode::synapse_admin), "token",
                                      quick());
  model::MatrixState desired = desired_rooms({"a", "b"});
  desired.accounts["alice"] = desired_account("alice", "Alice");

  SECTION("without remembering, a port holds nothing") {
    auto first = homeserver.observe(desired, {});
    REQUIRE(first);
    CHECK_FALSE(homeserver.holds_room_state(first->sync_token));
  }
  homeserver.set_remember_observation(true);
  auto first = homeserver.observe(desired, {});
  REQUIRE(first);
  REQUIRE(first->sync_token == "s1");
  CHECK(homeserver.holds_room_state("s1"));
  CHECK_FALSE(homeserver.holds_room_state("s0"));
  CHECK_FALSE(homeserver.holds_room_state(""));

  SECTION("the next observation needs none of the store's snapshots, and reads only what changed") {
    auto second = homeserver.observe(desired, hints_after(*first));
    REQUIRE(second);
    CHECK(second->incremental);
    CHECK(second->state.rooms.at("a").room.name == "A2");
    CHECK(second->state.rooms.at("b").room.name == "B");  // taken from memory, not re-read
    CHECK(second->state.rooms.at("b") == first->state.rooms.at("b"));
    CHECK(second->changed_snapshots.size() == 1);
    REQUIRE(second->changed_snapshots.count("!a:example.org"));
    CHECK(homeserver.holds_room_state("s2"));
    CHECK_FALSE(homeserver.holds_room_state("s1"));
  }
  SECTION("an observation that fails leaves nothing half taken: the next one reads the store's snapshots") {
    scripted.sync_by_since.erase("s1");  // 404: a token the server does not know, so everything is read
    scripted.sync_by_since[""] = {502, {{"errcode", "M_UNKNOWN"}, {"error", "Bad gateway"}}};
    REQUIRE_FALSE(homeserver.observe(desired, hints_after(*first)));
    CHECK_FALSE(homeserver.holds_room_state("s1"));
  }
  SECTION("a store at another token gets its own snapshots folded, not the memory") {
    adapters::ObserveHints hints = hints_after(*first);
    hints.sync_token = "s0";  // the memory is not the state behind it
    scripted.sync_by_since["s0"] = {200, {{"next_batch", "s2"}}};
    std::map<std::string, std::string> texts;
    for (const auto& [room_id, snapshot] : first->changed_snapshots) {
      texts[room_id] = *snapshot;
    }
    texts["!a:example.org"] = room_state("a", "From the store").dump();
    give_snapshots(hints, texts);
    auto second = homeserver.observe(desired, hints);
    REQUIRE(second);
    CHECK(second->state.rooms.at("a").room.name == "From the store");
  }
}

TEST_CASE("http homeserver: a targeted observation takes the accounts from the last one unless they may have changed",
          "[http][observe][remember]") {
  ScriptedServer scripted;
  nlohmann::json all = {{"!a:example.org", joined(room_state("a", "A"))}};
  scripted.sync_by_since[""] = {200, {{"next_batch", "s1"}, {"rooms", {{"join", all}}}}};
  scripted.sync_by_since["s1"] = a_renamed_by_eve();
  adapters::HttpHomeserver homeserver(settings_for(scripted.server, model::ProvisioningMode::synapse_admin), "token",
                                      quick());
  homeserver.set_remember_observation(true);
  model::MatrixState desired = desired_rooms({"a"});
  desired.accounts["alice"] = desired_account("alice", "Alice");
  auto first = homeserver.observe(desired, {});
  REQUIRE(first);
  REQUIRE(first->state.accounts.at("alice").display_name == "Alice");
  CHECK(scripted.server.count("GET " + k_users) == 1);
  scripted.alice_name = "Changed through the admin API";
  scripted.server.clear();

  SECTION("targeted, nothing about accounts changed: not listed again") {
    homeserver.set_targeted_observation(true);
    auto second = homeserver.observe(desired, hints_after(*first));
    REQUIRE(second);
    CHECK(scripted.server.count("GET " + k_users) == 0);
    CHECK(second->state.accounts.at("alice").display_name == "Alice");
    CHECK(second->state.rooms.at("a").room.name == "A2");
  }
  SECTION("not targeted: listed again") {
    auto second = homeserver.observe(desired, hints_after(*first));
    REQUIRE(second);
    CHECK(scripted.server.count("GET " + k_users) == 1);
    CHECK(second->state.accounts.at("alice").display_name == "Changed through the admin API");
  }
  SECTION("targeted after mxctl wrote to an account: listed again") {
    homeserver.set_targeted_observation(true);
    model::Operation update;
    update.kind = model::Operation::Kind::update_account;
    update.account_key = "alice";
    adapters::ExecutionContext context;
    context.desired = &desired;
    REQUIRE(homeserver.execute(update, context));
    auto second = homeserver.observe(desired, hints_after(*first));
    REQUIRE(second);
    CHECK(scripted.server.count("GET " + k_users) == 1);
  }
  SECTION("targeted, the desired accounts differ: listed again") {
    homeserver.set_targeted_observation(true);
    desired.accounts["alice"].display_name = "Alice B.";
    auto second = homeserver.observe(desired, hints_after(*first));
    REQUIRE(second);
    CHECK(scripted.server.count("GET " + k_users) == 1);
  }
  SECTION("targeted, a member changed their own membership event: listed again") {
    homeserver.set_targeted_observation(true);
    nlohmann::json profile = {
        {"timeline",
         {{"events",
           {event("m.room.member", "@alice:example.org", {{"membership", "join"}, {"displayname", "A!"}},
                  "@alice:example.org")}}}}};
    scripted.sync_by_since["s1"] = {200, {{"next_batch", "s2"}, {"rooms", {{"join", {{"!a:example.org", profile}}}}}}};
    auto second = homeserver.observe(desired, hints_after(*first));
    REQUIRE(second);
    CHECK(scripted.server.count("GET " + k_users) == 1);
    CHECK(second->state.accounts.at("alice").display_name == "Changed through the admin API");
  }
}

TEST_CASE("http homeserver: its writes are recorded for the change feed, by event id or by membership",
          "[http][own_writes]") {
  Server server([](const std::string& method, const std::string& path, const std::string&) -> std::optional<Reply> {
    if (method == "PUT" && path == k_client + "/rooms/!a:example.org/state/m.room.name/") {
      return Reply{200, {{"event_id", "$named"}}};
    }
    if (method == "POST" && path == k_client + "/rooms/!a:example.org/invite") {
      return Reply{200, nlohmann::json::object()};
    }
    return std::nullopt;
  });
  adapters::HttpHomeserver homeserver(settings_for(server, model::ProvisioningMode::synapse_admin), "token", quick());
  adapters::OwnWrites own;
  homeserver.record_own_writes(&own);
  model::MatrixState desired = desired_rooms({"a"});
  adapters::ExecutionContext context;
  context.desired = &desired;
  context.room_ids = {{"a", "!a:example.org"}};
  model::Operation name;
  name.kind = model::Operation::Kind::set_state;
  name.room_key = "a";
  name.field = model::StateField::name;
  REQUIRE(homeserver.execute(name, context));
  model::Operation invite;
  invite.kind = model::Operation::Kind::invite;
  invite.room_key = "a";
  invite.user_id = "@bob:example.org";
  REQUIRE(homeserver.execute(invite, context));

  CHECK(own.take("!a:example.org", "$named", "m.room.name", k_bot, "", ""));
  CHECK(own.take("!a:example.org", "$invite", "m.room.member", k_bot, "@bob:example.org", "invite"));
  CHECK_FALSE(own.take("!a:example.org", "$other", "m.room.member", k_bot, "@carol:example.org", "invite"));
}

}  // namespace http_homeserver_observe_test
