// The lifecycle over HTTP against mxsim, with the real mxctl binary and an
// injected clock (--now): archive and exact restore, hard delete after the
// grace period on the Synapse path and the portable path, the day 59/60/61
// and clock-skew boundaries, suspension and reactivation, the mass-change
// guard, protect: true, and the audit log.

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "adapters/state_store.h"
#include "controller/clock.h"
#include "tests/e2e/appservice_fixture.h"
#include "tests/e2e/fixture.h"

namespace lifecycle_test {

namespace {

const std::string k_day0 = "2026-01-01";
const std::string k_archive_type = "org.mxctl.managed.archive";
// The four rooms of the harbor community: its space and general room, and
// its council's space and discussion room.
const std::vector<std::string> k_harbor_keys = {"community/harbor", "community/harbor/general", "council/stewards",
                                                "council/stewards/discussion"};

std::int64_t ms(const std::string& when) { return *controller::parse_time_ms(when); }

// Drops from manifest `file` every document whose metadata names `name`.
template <typename Fx>
void drop_document(const Fx& fx, const std::string& file, const std::string& name) {
  const std::string path = fx.manifests() + "/" + file;
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string out;
  std::size_t start = 0;
  bool dropped = false;
  while (start <= text.size()) {
    std::size_t next = text.find("\n---", start);
    std::string document = text.substr(start, next == std::string::npos ? std::string::npos : next - start);
    if ((document + "\n").find("metadata:\n  name: " + name + "\n") == std::string::npos) {
      out += document + (next == std::string::npos ? "" : "\n");
    } else {
      dropped = true;
    }
    if (next == std::string::npos) {
      break;
    }
    start = next + 1;
  }
  REQUIRE(dropped);
  std::ofstream(path, std::ios::trunc) << out;
}

// Removes the harbor community and its council from the manifests.
template <typename Fx>
void remove_harbor(const Fx& fx) {
  drop_document(fx, "communities.yaml", "harbor");
  drop_document(fx, "councils.yaml", "stewards");
}

// Puts the example manifests back as they were.
template <typename Fx>
void restore_manifests(const Fx& fx) {
  std::filesystem::remove_all(fx.manifests());
  std::filesystem::copy(std::string(MXCTL_SOURCE_DIR) + "/manifests", fx.manifests(),
                        std::filesystem::copy_options::recursive);
}

std::unique_ptr<adapters::StateStore> open_store(const std::string& path) {
  auto store = adapters::open_sqlite_store(path);
  REQUIRE(store);
  return std::move(*store);
}

std::map<std::string, std::string> room_ids(const std::string& state) {
  auto ids = open_store(state)->room_ids();
  REQUIRE(ids);
  return *ids;
}

// The room's current state as "type|state_key" → content, read from mxsim
// itself; empty when the room does not exist.
std::map<std::string, nlohmann::json> room_state(mxsim::Homeserver& homeserver, const std::string& room_id) {
  auto lock = homeserver.read_lock();
  std::map<std::string, nlohmann::json> out;
  mxsim::Room* room = homeserver.state().find_room(room_id);
  if (room == nullptr) {
    return out;
  }
  for (const auto& [key, event] : room->current_state()) {
    out[key.first + "|" + key.second] = event->content;
  }
  return out;
}

// The state a restore must bring back exactly.
std::map<std::string, nlohmann::json> restorable(std::map<std::string, nlohmann::json> state) {
  std::map<std::string, nlohmann::json> out;
  for (auto& [key, content] : state) {
    for (const char* type : {"m.room.name|", "m.room.topic|", "m.room.join_rules|", "m.room.power_levels|",
                             "m.room.history_visibility|", "m.space.child|", "m.space.parent|"}) {
      if (key.rfind(type, 0) == 0) {
        out[key] = content;
      }
    }
  }
  return out;
}

template <typename Fx>
testing_support::ProcessResult run(Fx& fx, std::vector<std::string> args) {
  auto result = fx.mxctl(args);
  INFO(result.out << result.err);
  return result;
}

template <typename Fx>
void apply_at(Fx& fx, const std::string& now, const std::string& expect_in_out = "") {
  auto result = fx.mxctl({"apply", fx.manifests(), "--yes", "--now", now});
  INFO(result.out << result.err);
  REQUIRE(result.exit_code == 0);
  if (!expect_in_out.empty()) {
    CHECK(result.out.find(expect_in_out) != std::string::npos);
  }
}

template <typename Fx>
std::string plan_at(Fx& fx, const std::string& now) {
  auto result = fx.mxctl({"plan", fx.manifests(), "--now", now});
  INFO(result.out << result.err);
  REQUIRE(result.exit_code == 0);
  return result.out;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) {
    ++n;
  }
  return n;
}

}  // namespace

TEST_CASE("e2e lifecycle: archive, then restore within the grace period is exact", "[e2e][lifecycle]") {
  e2e::Fixture fx;
  apply_at(fx, k_day0);
  auto ids = room_ids(fx.state());
  std::map<std::string, std::map<std::string, nlohmann::json>> before;
  for (const std::string& key : k_harbor_keys) {
    REQUIRE(ids.count(key));
    before[key] = restorable(room_state(fx.homeserver(), ids.at(key)));
  }

  remove_harbor(fx);
  auto plan = run(fx, {"plan", fx.manifests(), "--now", k_day0});
  CHECK(count(plan.out, "will be archived") == 4);
  CHECK(plan.out.find("(because it is no longer in the desired state; it will be deleted on 2026-03-02 unless it "
                      "comes back before)") != std::string::npos);
  CHECK(plan.out.find("+ deleted_on") != std::string::npos);
  CHECK(plan.out.find("(4 to archive)") != std::string::npos);
  apply_at(fx, k_day0, "Resources: 0 added, 4 changed, 0 destroyed.");

  for (const std::string& key : k_harbor_keys) {
    auto state = room_state(fx.homeserver(), ids.at(key));
    INFO(key);
    CHECK(state.at("m.room.name|")["name"].get<std::string>().ends_with(" (archived)"));
    CHECK(state.at("m.room.topic|")["topic"] == "Archived on 2026-01-01; it will be deleted on 2026-03-02.");
    CHECK(state.at("m.room.join_rules|")["join_rule"] == "invite");
    CHECK(state.at("m.room.power_levels|")["events_default"] == 100);
    CHECK(state.at(k_archive_type + "|")["archived_at"] == ms(k_day0));
  }
  // The space keeps its child links, so the restore is exact.
  CHECK(room_state(fx.homeserver(), ids.at("community/harbor")).count("m.space.child|" + ids.at("council/stewards")));
  auto archives = open_store(fx.state())->archive_records();
  REQUIRE(archives);
  CHECK(archives->size() == 4);
  CHECK(archives->at("community/harbor") == ms(k_day0));

  // Converged: a second pass on another day changes nothing.
  CHECK(plan_at(fx, "2026-01-20").find("No changes.") != std::string::npos);

  restore_manifests(fx);
  auto back = run(fx, {"plan", fx.manifests(), "--now", "2026-03-01"});
  CHECK(count(back.out, "will be restored") == 4);
  apply_at(fx, "2026-03-01");
  for (const std::string& key : k_harbor_keys) {
    INFO(key);
    auto state = room_state(fx.homeserver(), ids.at(key));
    CHECK(restorable(state) == before.at(key));
    CHECK(state.at(k_archive_type + "|") == nlohmann::json::object());
  }
  archives = open_store(fx.state())->archive_records();
  REQUIRE(archives);
  CHECK(archives->empty());
  CHECK(plan_at(fx, "2026-03-02").find("No changes.") != std::string::npos);
}

TEST_CASE("e2e lifecycle: hard delete after the grace period, Synapse admin path", "[e2e][lifecycle]") {
  e2e::Fixture fx;
  apply_at(fx, k_day0);
  auto ids = room_ids(fx.state());
  remove_harbor(fx);
  apply_at(fx, k_day0);

  // The clock went backwards, day 59, and the last second before day 60: kept.
  for (const char* now : {"2025-12-31", "2026-03-01", "2026-03-01T23:59:59Z"}) {
    INFO(now);
    CHECK(plan_at(fx, now).find("No changes.") != std::string::npos);
  }
  // Day 60: listed for deletion with the reason; plan deletes nothing.
  std::string plan = plan_at(fx, "2026-03-02");
  CHECK(count(plan, "will be destroyed") == 4);
  CHECK(plan.find("# (because archived on 2026-01-01, grace period of 60 days ended on 2026-03-02)") !=
        std::string::npos);
  CHECK(plan.find("- room.community/harbor {") != std::string::npos);
  CHECK(plan.find("Plan: 0 to add, 0 to change, 4 to destroy.") != std::string::npos);
  for (const std::string& key : k_harbor_keys) {
    CHECK_FALSE(room_state(fx.homeserver(), ids.at(key)).empty());
  }

  // Day 61: deleted through the admin API, with a tombstone each.
  const uint64_t before_apply = fx.homeserver().journal().last_seq();
  apply_at(fx, "2026-03-03", "Resources: 0 added, 0 changed, 4 destroyed.");
  std::size_t admin_deletes = 0;
  for (const mxsim::JournalEntry& entry : fx.homeserver().journal().entries(before_apply)) {
    admin_deletes += entry.method == "DELETE" && entry.route == "DELETE /_synapse/admin/v2/rooms/{roomId}";
  }
  CHECK(admin_deletes == 4);
  for (const std::string& key : k_harbor_keys) {
    CHECK(room_state(fx.homeserver(), ids.at(key)).empty());
  }
  auto store = open_store(fx.state());
  auto tombstones = store->tombstones();
  REQUIRE(tombstones);
  REQUIRE(tombstones->size() == 4);
  for (const adapters::Tombstone& tombstone : *tombstones) {
    CHECK(tombstone.archived_at == ms(k_day0));
    CHECK(tombstone.deleted_at == ms("2026-03-03"));
    CHECK(tombstone.room_id == ids.at(tombstone.key));
  }
  auto left = store->room_ids();
  REQUIRE(left);
  CHECK(left->count("community/harbor") == 0);
  CHECK(plan_at(fx, "2026-03-04").find("No changes.") != std::string::npos);
}

TEST_CASE("e2e lifecycle: hard delete without the admin API unlinks, unaliases, kicks and leaves",
          "[e2e][lifecycle]") {
  e2e::AppserviceFixture fx;
  apply_at(fx, k_day0);
  auto ids = room_ids(fx.state());
  remove_harbor(fx);
  apply_at(fx, k_day0);
  CHECK(plan_at(fx, "2026-03-01").find("No changes.") != std::string::npos);
  const uint64_t before_apply = fx.homeserver().journal().last_seq();
  apply_at(fx, "2026-03-02", "Resources: 0 added, 0 changed, 4 destroyed.");

  std::size_t admin_calls = 0;
  for (const mxsim::JournalEntry& entry : fx.homeserver().journal().entries(before_apply)) {
    admin_calls += entry.write && entry.path.rfind("/_synapse/admin", 0) == 0;
  }
  CHECK(admin_calls == 0);
  auto lock = fx.homeserver().read_lock();
  mxsim::ServerState& state = fx.homeserver().state();
  for (const std::string& key : k_harbor_keys) {
    INFO(key);
    mxsim::Room* room = state.find_room(ids.at(key));
    REQUIRE(room != nullptr);  // Without the admin API the room itself stays, empty.
    // Everyone the bot outranks is removed; a member at the bot's own level
    // (a community admin at 100) cannot be kicked by anyone but themselves.
    const mxsim::Event* levels = room->state_event("m.room.power_levels");
    REQUIRE(levels != nullptr);
    for (const char* membership : {"join", "invite"}) {
      for (const std::string& user : room->users_with(membership)) {
        INFO(user << " is still " << membership);
        CHECK(levels->content["users"].value(user, 0) == 100);
        CHECK(user != e2e::k_appservice_bot);
      }
    }
    for (const auto& [alias, entry] : state.aliases) {
      CHECK(entry.room_id != ids.at(key));
    }
  }
}

TEST_CASE("e2e lifecycle: deactivation demotes, removes from councils, suspends, reactivation lifts it",
          "[e2e][lifecycle]") {
  e2e::Fixture fx;
  apply_at(fx, k_day0);
  auto ids = room_ids(fx.state());
  const std::string grace = "@grace:mxsim.test";  // trust 30 in riverside (level 50), on the disputes council
  auto levels_in = [&](const std::string& key) {
    return room_state(fx.homeserver(), ids.at(key)).at("m.room.power_levels|")["users"];
  };
  REQUIRE(levels_in("community/riverside/general").contains(grace));
  auto membership = [&](const std::string& key) {
    auto state = room_state(fx.homeserver(), ids.at(key));
    auto it = state.find("m.room.member|" + grace);
    return it == state.end() ? std::string() : it->second.value("membership", "");
  };
  REQUIRE(membership("council/disputes") != "");
  REQUIRE(membership("council/disputes") != "leave");

  fx.edit("users.yaml", "  name: grace\nspec:\n", "  name: grace\nspec:\n  deactivated: true\n");
  auto plan = run(fx, {"plan", fx.manifests(), "--now", k_day0});
  CHECK(plan.out.find("# account.grace will be suspended") != std::string::npos);
  apply_at(fx, k_day0);
  {
    auto lock = fx.homeserver().read_lock();
    mxsim::User* user = fx.homeserver().state().find_user(grace);
    REQUIRE(user != nullptr);
    CHECK(user->suspended);
    CHECK_FALSE(user->deactivated);  // Suspended, never erased.
  }
  CHECK_FALSE(levels_in("community/riverside/general").contains(grace));
  CHECK_FALSE(levels_in("community/riverside").contains(grace));
  CHECK(membership("council/disputes") == "leave");
  CHECK(membership("community/riverside/general") != "leave");  // Keeps the community history.
  CHECK(plan_at(fx, k_day0).find("No changes.") != std::string::npos);

  restore_manifests(fx);
  apply_at(fx, k_day0);
  {
    auto lock = fx.homeserver().read_lock();
    CHECK_FALSE(fx.homeserver().state().find_user(grace)->suspended);
  }
  CHECK(levels_in("community/riverside/general")[grace] == 50);
  CHECK(plan_at(fx, k_day0).find("No changes.") != std::string::npos);

  SECTION("a user gone from the manifests is suspended too") {
    drop_document(fx, "users.yaml", "oscar");  // deactivated already; never had an account
    // heidi: trust 0, only in riverside; drop her from the community and the users.
    fx.edit("communities.yaml", "    - user: heidi\n      trust: 0\n", "");
    drop_document(fx, "users.yaml", "heidi");
    auto gone = run(fx, {"plan", fx.manifests(), "--now", k_day0});
    CHECK(gone.out.find("# account.heidi will be suspended") != std::string::npos);
    apply_at(fx, k_day0);
    auto lock = fx.homeserver().read_lock();
    CHECK(fx.homeserver().state().find_user("@heidi:mxsim.test")->suspended);
  }
}

TEST_CASE("e2e lifecycle: the mass-change guard stops a pass before anything changes", "[e2e][lifecycle]") {
  e2e::Fixture fx;
  apply_at(fx, k_day0);
  auto expect_refused = [&](const std::string& why) {
    const uint64_t before = fx.homeserver().journal().last_seq();
    auto result = fx.mxctl({"apply", fx.manifests(), "--yes", "--now", k_day0});
    INFO(result.out << result.err);
    CHECK(result.exit_code == 1);
    CHECK(result.err.find("Error: mass-change guard: " + why) != std::string::npos);
    CHECK(result.err.find("run again with --allow-mass-change") != std::string::npos);
    std::size_t writes = 0;
    for (const mxsim::JournalEntry& entry : fx.homeserver().journal().entries(before)) {
      writes += entry.write;
    }
    CHECK(writes == 0);
    auto reconcile = fx.mxctl({"reconcile", fx.manifests(), "--now", k_day0});
    CHECK(reconcile.exit_code == 1);
    auto plan = fx.mxctl({"plan", fx.manifests(), "--now", k_day0});
    CHECK(plan.exit_code == 1);
  };

  SECTION("an empty manifest set") {
    for (const char* file : {"users.yaml", "communities.yaml", "councils.yaml", "coordination.yaml"}) {
      std::filesystem::remove(fx.manifests() + "/" + file);
    }
    expect_refused("the desired state is empty (no manifests or no database rows) while 33 objects are managed");
  }
  SECTION("25% of the managed objects archived, then let through") {
    // Two of three communities archived: 8 rooms (and their councils) of 33 objects.
    fx.edit("communities.yaml", "  name: Harbor Tool Library\n", "  name: Harbor Tool Library\n  archived: true\n");
    fx.edit("communities.yaml", "  name: Hilltop Gardens\n", "  name: Hilltop Gardens\n  archived: true\n");
    expect_refused("this pass would archive 8, delete 0 and suspend 0 of 33 managed objects (25%)");
    auto allowed = fx.mxctl({"apply", fx.manifests(), "--yes", "--now", k_day0, "--allow-mass-change"});
    INFO(allowed.out << allowed.err);
    CHECK(allowed.exit_code == 0);
    CHECK(allowed.err.find("(allowed by --allow-mass-change)") != std::string::npos);
    CHECK(allowed.out.find("Resources: 0 added, 8 changed, 0 destroyed.") != std::string::npos);
  }
}

TEST_CASE("e2e lifecycle: protect: true refuses removal and deletion", "[e2e][lifecycle]") {
  e2e::Fixture fx;
  fx.edit("communities.yaml", "  name: Harbor Tool Library\n", "  name: Harbor Tool Library\n  protect: true\n");
  apply_at(fx, k_day0);
  remove_harbor(fx);
  const uint64_t before = fx.homeserver().journal().last_seq();
  auto refused = fx.mxctl({"apply", fx.manifests(), "--yes", "--now", k_day0});
  INFO(refused.out << refused.err);
  CHECK(refused.exit_code == 1);
  CHECK(refused.out.find("protected (protect: true) and cannot be removed from the desired state") !=
        std::string::npos);
  std::size_t writes = 0;
  for (const mxsim::JournalEntry& entry : fx.homeserver().journal().entries(before)) {
    writes += entry.write;
  }
  CHECK(writes == 0);

  SECTION("archived while protected: kept past the grace period, with an error") {
    restore_manifests(fx);
    fx.edit("communities.yaml", "  name: Harbor Tool Library\n",
            "  name: Harbor Tool Library\n  protect: true\n  archived: true\n");
    apply_at(fx, k_day0);
    auto late = fx.mxctl({"plan", fx.manifests(), "--now", "2026-06-01"});
    INFO(late.out << late.err);
    CHECK(late.exit_code == 1);
    CHECK(late.out.find("it is protected (protect: true); it is not deleted") != std::string::npos);
    CHECK(late.out.find("will be destroyed") == std::string::npos);
  }
}

TEST_CASE("e2e lifecycle: the audit log holds every action of a scenario, in order", "[e2e][lifecycle]") {
  e2e::Fixture fx;
  apply_at(fx, k_day0);
  fx.edit("communities.yaml", "    - user: bob\n      trust: 9\n", "    - user: bob\n      trust: 31\n");  // harbor
  apply_at(fx, k_day0);
  remove_harbor(fx);
  apply_at(fx, k_day0);
  apply_at(fx, "2026-03-02");

  auto json = run(fx, {"audit", "--state", fx.state(), "--format", "json"});
  REQUIRE(json.exit_code == 0);
  const nlohmann::json entries = nlohmann::json::parse(json.out).at("entries");
  auto journal = open_store(fx.state())->runs(100);
  REQUIRE(journal);
  // Every applied operation is there once: as many entries as the passes had operations.
  std::size_t operations = 0;
  for (const adapters::RunRecord& run_record : *journal) {
    auto done = open_store(fx.state())->journal(run_record.id);
    REQUIRE(done);
    std::set<std::string> ops;
    for (const adapters::JournalEntry& entry : *done) {
      ops.insert(entry.operation);
    }
    operations += ops.size();
  }
  CHECK(entries.size() == operations);
  for (const auto& entry : entries) {
    CHECK(entry["result"] == "ok");
  }

  // The harbor space, in order: created, its levels changed, archived, deleted.
  auto harbor = run(fx, {"audit", "--state", fx.state(), "--key", "community/harbor", "--format", "json"});
  const nlohmann::json harbor_entries = nlohmann::json::parse(harbor.out).at("entries");
  std::vector<std::string> actions;
  for (const auto& entry : harbor_entries) {
    actions.push_back(entry["action"].get<std::string>());
  }
  auto position = [&](const std::string& action) {
    return std::find(actions.begin(), actions.end(), action) - actions.begin();
  };
  REQUIRE(std::count(actions.begin(), actions.end(), "create_room") == 1);
  REQUIRE(std::count(actions.begin(), actions.end(), "delete_room") == 1);
  CHECK(position("create_room") < position("set_state m.room.power_levels"));
  CHECK(position("set_state m.room.power_levels") < position("set_state org.mxctl.managed.archive"));
  CHECK(position("set_state org.mxctl.managed.archive") < position("delete_room"));
  CHECK(actions.back() == "delete_room");
  // The trust change is there with the level before and after.
  bool trust_change_audited = false;
  for (const auto& entry : harbor_entries) {
    if (entry["action"] == "set_state m.room.power_levels" &&
        entry["before"].get<std::string>().find("power_levels.users[\"@bob:mxsim.test\"]=10") != std::string::npos &&
        entry["after"].get<std::string>().find("power_levels.users[\"@bob:mxsim.test\"]=50") != std::string::npos) {
      trust_change_audited = true;
      CHECK(entry["target"].get<std::string>().rfind("!", 0) == 0);
    }
  }
  CHECK(trust_change_audited);
  auto text = run(fx, {"audit", "--state", fx.state(), "--key", "community/harbor"});
  CHECK(text.out.find("ok  delete_room  community/harbor (!") != std::string::npos);
  for (const char* future : {"2100-01-01", "2999-01-01"}) {
    auto none = run(fx, {"audit", "--state", fx.state(), "--since", future});
    CHECK(none.out == "No audit entries match.\n");
  }
  auto since_start = run(fx, {"audit", "--state", fx.state(), "--since", "2000-01-01", "--format", "json"});
  CHECK(nlohmann::json::parse(since_start.out).at("entries").size() == entries.size());
}

TEST_CASE("e2e lifecycle: display names and avatars follow the desired state", "[e2e][lifecycle]") {
  e2e::Fixture fx;
  apply_at(fx, k_day0);
  fx.edit("users.yaml", "displayName: Alice Moreau", "displayName: Alice Moreau-Diaz");
  fx.edit("users.yaml", "avatarUrl: mxc://example.org/AliceMoreauAvatar", "avatarUrl: mxc://example.org/AliceNew");
  auto plan = run(fx, {"plan", fx.manifests(), "--now", k_day0});
  CHECK(plan.out.find("~ display_name = \"Alice Moreau\" -> \"Alice Moreau-Diaz\"") != std::string::npos);
  apply_at(fx, k_day0, "Resources: 0 added, 1 changed, 0 destroyed.");
  {
    auto lock = fx.homeserver().read_lock();
    mxsim::User* alice = fx.homeserver().state().find_user("@alice:mxsim.test");
    REQUIRE(alice != nullptr);
    CHECK(alice->displayname == std::optional<std::string>("Alice Moreau-Diaz"));
    CHECK(alice->avatar_url == std::optional<std::string>("mxc://example.org/AliceNew"));
  }
  CHECK(plan_at(fx, k_day0).find("No changes.") != std::string::npos);
}

TEST_CASE("e2e lifecycle: apply --plan decides at the instant the saved plan was made", "[e2e][lifecycle]") {
  e2e::Fixture fx;
  apply_at(fx, k_day0);
  remove_harbor(fx);
  const std::string saved = fx.scratch("archive.plan.json");
  auto plan = run(fx, {"plan", fx.manifests(), "--now", k_day0, "--out", saved});
  REQUIRE(plan.exit_code == 0);
  // No --now here: the real clock is months later, which would date the
  // archive differently and make the reviewed plan stale.
  auto applied = run(fx, {"apply", "--plan", saved});
  REQUIRE(applied.exit_code == 0);
  auto ids = room_ids(fx.state());
  CHECK(room_state(fx.homeserver(), ids.at("community/harbor")).at(k_archive_type + "|")["archived_at"] == ms(k_day0));
}

TEST_CASE("e2e lifecycle: deactivation with Synapse's deactivate API only when the config asks, never erasing",
          "[e2e][lifecycle]") {
  e2e::Fixture fx;
  const std::string config = fx.scratch("mxctl.yaml");
  std::ofstream(config) << "deactivatedAccounts: deactivate\n";
  auto apply = [&](const std::string& now) {
    auto result = fx.mxctl({"--config", config, "apply", fx.manifests(), "--yes", "--now", now});
    INFO(result.out << result.err);
    return result;
  };
  REQUIRE(apply(k_day0).exit_code == 0);
  fx.edit("users.yaml", "  name: grace\nspec:\n", "  name: grace\nspec:\n  deactivated: true\n");
  REQUIRE(apply(k_day0).exit_code == 0);
  {
    auto lock = fx.homeserver().read_lock();
    mxsim::User* user = fx.homeserver().state().find_user("@grace:mxsim.test");
    REQUIRE(user != nullptr);
    CHECK(user->deactivated);
    CHECK_FALSE(user->erased);
    CHECK_FALSE(user->suspended);
  }
  auto again = fx.mxctl({"--config", config, "plan", fx.manifests(), "--now", k_day0});
  CHECK(again.out.find("No changes.") != std::string::npos);
  // Reactivating needs a new password: mxctl says so instead of pretending.
  restore_manifests(fx);
  auto refused = apply(k_day0);
  CHECK(refused.exit_code == 1);
  CHECK(refused.err.find("Synapse reactivates an account only with a new password; an admin must do it") !=
        std::string::npos);
}

}  // namespace lifecycle_test
