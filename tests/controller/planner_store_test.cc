// What planning does with the state store: a plan (no lock) keeps only the
// observation cache, and only while no pass holds the lock; a store that
// knew none of the managed rooms is a warning in the plan; a saved plan is
// private to its owner and judged stale by its changes, not its warnings.

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <fstream>

#include "adapters/store/sqlite_state_store.h"
#include "controller/planner.h"
#include "controller/render_plan.h"
#include "controller/saved_plan.h"
#include "tests/fakes/fake_homeserver.h"
#include "tests/support/temp_dir.h"

namespace planner_store_test {

namespace {

const std::string k_bot = "@mxctl:example.org";

model::Room room(const std::string& key) {
  model::Room out;
  out.key = key;
  out.alias = "#mxctl." + key + ":example.org";
  out.name = key;
  out.power_levels.users[k_bot] = 100;
  return out;
}

// A server holding `keys`, each marked, converged with the desired state.
model::MatrixState serve(fakes::FakeHomeserver& server, const std::vector<std::string>& keys) {
  model::MatrixState desired;
  model::ObservedState existing;
  for (const std::string& key : keys) {
    desired.rooms[key] = room(key);
    model::ObservedRoom have{"!" + key + ":example.org", key, desired.rooms[key], {}};
    have.members[k_bot] = {model::Membership::join, true};
    existing.rooms[key] = have;
  }
  server.set_state(existing);
  return desired;
}

std::unique_ptr<adapters::SqliteStateStore> memory_store() {
  auto store = adapters::SqliteStateStore::open(":memory:");
  REQUIRE(store);
  return std::move(*store);
}

model::DiffOptions diff_options() {
  model::DiffOptions options;
  options.bot_user_id = k_bot;
  return options;
}

}  // namespace

TEST_CASE("planner: a store that knew none of the managed rooms is a warning in the plan", "[planner][store]") {
  fakes::FakeHomeserver server("example.org");
  model::MatrixState desired = serve(server, {"a", "b"});
  auto store = memory_store();

  auto first = controller::make_plan(desired, server, *store, diff_options(), {});
  REQUIRE(first);
  CHECK(first->plan.empty());
  CHECK(first->store_reset == std::size_t(2));
  CHECK(first->mass_change.store_reset);
  REQUIRE(first->plan.warnings.size() == 1);
  CHECK(first->plan.warnings[0] ==
        "the state store knew none of the 2 rooms on the homeserver that carry this instance's marker (it is new or "
        "was emptied): room ids, archive dates and protection are taken from the rooms' markers, accounts it does "
        "not know are never suspended, and nothing is archived, deleted or suspended without --allow-mass-change");

  // That pass rebuilt the store: the next one knows the rooms.
  auto second = controller::make_plan(desired, server, *store, diff_options(), {});
  REQUIRE(second);
  CHECK_FALSE(second->store_reset);
  CHECK(second->plan.warnings.empty());
  CHECK_FALSE(second->mass_change.store_reset);

  SECTION("a store that knows one of them is not reset") {
    auto partial = memory_store();
    REQUIRE(partial->set_room_id("a", "!a:example.org"));
    auto planned = controller::make_plan(desired, server, *partial, diff_options(), {});
    REQUIRE(planned);
    CHECK_FALSE(planned->store_reset);
  }
  SECTION("a server with no managed room resets nothing") {
    fakes::FakeHomeserver empty("example.org");
    auto planned = controller::make_plan(desired, empty, *memory_store(), diff_options(), {});
    REQUIRE(planned);
    CHECK_FALSE(planned->store_reset);
  }
}

TEST_CASE("planner: a plan keeps only the observation cache, and only while no pass holds the lock",
          "[planner][store]") {
  fakes::FakeHomeserver server("example.org");
  model::MatrixState desired = serve(server, {"a"});
  desired.rooms["a"].protect = true;
  desired.rooms["a"].name = "renamed";  // a change, so the plan is not empty
  auto store = memory_store();
  const auto writes = controller::StoreWrites::cache_only;

  SECTION("no pass holds the lock: the room id is kept, the protection is not") {
    auto planned = controller::make_plan(desired, server, *store, diff_options(), {}, writes);
    REQUIRE(planned);
    CHECK(planned->cache_note.empty());
    CHECK(store->room_ids() == std::map<std::string, std::string>{{"a", "!a:example.org"}});
    CHECK(store->protected_addresses() == std::set<std::string>{});
    // Protection still counts for this plan, as declared.
    CHECK(planned->plan.changes.size() == 1);
  }
  SECTION("a pass holds the lock: nothing is kept, and the plan says why") {
    auto held = store->lock("apply");
    REQUIRE(held);
    auto planned = controller::make_plan(desired, server, *store, diff_options(), {}, writes);
    REQUIRE(planned);
    CHECK(planned->cache_note ==
          "a pass holds the lock, so this plan did not save its observation cache; the next pass reads from the "
          "homeserver what this one could not keep");
    CHECK(store->room_ids() == std::map<std::string, std::string>{});
  }
  SECTION("a pass that holds the lock itself keeps everything") {
    auto held = store->lock("apply");
    REQUIRE(held);
    auto planned = controller::make_plan(desired, server, *store, diff_options(), {});
    REQUIRE(planned);
    CHECK(store->room_ids() == std::map<std::string, std::string>{{"a", "!a:example.org"}});
    CHECK(store->protected_addresses() == std::set<std::string>{"room.a"});
  }
}

TEST_CASE("saved plan: written private to its owner, replacing a file left there", "[saved_plan]") {
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "plan.json").string();
  std::ofstream(path) << "old";
  REQUIRE(::chmod(path.c_str(), 0644) == 0);
  std::ofstream(path + ".tmp") << "left over";
  const mode_t old_mask = ::umask(0);
  controller::SavedPlan saved{{"manifests/"}, "digest", controller::render_plan_json({}), "", std::nullopt};
  auto written = controller::write_saved_plan(path, saved);
  ::umask(old_mask);
  REQUIRE(written);
  struct stat info {};
  REQUIRE(::stat(path.c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0600);
  auto read = controller::read_saved_plan(path);
  REQUIRE(read);
  CHECK(read->desired_digest == "digest");
}

TEST_CASE("saved plan: stale when its changes differ, not when only its warnings do", "[saved_plan]") {
  model::Plan reviewed;
  reviewed.warnings.push_back("the state store knew none of the 2 rooms");
  controller::SavedPlan saved{{"manifests/"}, "digest", controller::render_plan_json(reviewed), "", std::nullopt};
  CHECK(controller::check_not_stale(saved, "digest", model::Plan{}));
  model::Plan changed;
  changed.changes.push_back({"room.a", model::ResourceChange::Action::update, {}, "", {}});
  auto stale = controller::check_not_stale(saved, "digest", changed);
  REQUIRE_FALSE(stale);
  CHECK(stale.error().message == "saved plan is stale: the homeserver changed since it was made; run plan again");
}

}  // namespace planner_store_test
