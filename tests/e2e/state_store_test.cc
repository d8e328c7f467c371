// The state store over real passes (mxctl against mxsim): a store that was
// emptied never makes mxctl less careful, a sync token the server never
// issued does not hide drift, plan reads a store it cannot write and takes
// no lock, a lock is removed with `mxctl unlock ID`, and the files mxctl
// writes are private to their owner.

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "adapters/store/sqlite_db.h"
#include "adapters/state_store.h"
#include "tests/e2e/fixture.h"

namespace state_store_test {

namespace {

const std::string k_day0 = "2026-01-01";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Drops from manifest `file` the document whose metadata names `name`.
void drop_document(const e2e::Fixture& fx, const std::string& file, const std::string& name) {
  const std::string path = fx.manifests() + "/" + file;
  std::string text = read_file(path);
  const std::size_t at = text.find("metadata:\n  name: " + name + "\n");
  REQUIRE(at != std::string::npos);
  const std::size_t start = text.rfind("\n---", at);
  REQUIRE(start != std::string::npos);
  const std::size_t end = text.find("\n---", at);
  text.erase(start, end == std::string::npos ? std::string::npos : end - start);
  std::ofstream(path, std::ios::trunc) << text;
}

// Writes the simulator answered after `after`.
std::size_t writes_since(e2e::Fixture& fx, uint64_t after) {
  std::size_t writes = 0;
  for (const mxsim::JournalEntry& entry : fx.homeserver().journal().entries(after)) {
    writes += entry.write ? 1 : 0;
  }
  return writes;
}

testing_support::ProcessResult run(const e2e::Fixture& fx, std::vector<std::string> args) {
  auto result = fx.mxctl(std::move(args));
  UNSCOPED_INFO(result.out << result.err);
  return result;
}

std::string room_id_of(e2e::Fixture& fx, const std::string& alias) {
  mxsim::ApiResponse resolved = fx.as_bot("GET", "/_matrix/client/v3/directory/room/" + alias, nullptr);
  REQUIRE(resolved.status == 200);
  return resolved.body["room_id"];
}

std::string lock_id_in(const std::string& state) {
  auto db = adapters::sqlite::Database::open(state, "read the lock");
  REQUIRE(db);
  auto stmt = (*db)->prepare("SELECT lock_id FROM lock", "read the lock");
  REQUIRE(stmt);
  auto row = stmt->step("read the lock");
  REQUIRE(row);
  REQUIRE(*row);
  return stmt->text(0);
}

mode_t mode_of(const std::string& path) {
  struct stat info {};
  REQUIRE(::stat(path.c_str(), &info) == 0);
  return info.st_mode & 0777;
}

}  // namespace

TEST_CASE("e2e store: an emptied store keeps a protected coordination room from being archived",
          "[e2e][store][reset]") {
  e2e::Fixture fx;
  fx.edit("coordination.yaml", "  between: [bob, carol]\n", "  between: [bob, carol]\n  protect: true\n");
  REQUIRE(run(fx, {"apply", fx.manifests(), "--yes", "--now", k_day0}).exit_code == 0);
  // The room's marker holds the protection, written when the room was made.
  {
    auto lock = fx.homeserver().read_lock();
    const mxsim::Room* room = fx.homeserver().state().find_room(room_id_of(fx, "%23mxctl.dm.request-8841%3Amxsim.test"));
    REQUIRE(room != nullptr);
    const mxsim::Event* marker = room->state_event(e2e::k_marker_type, "");
    REQUIRE(marker != nullptr);
    CHECK(marker->content.value("protect", false));
  }

  std::filesystem::resize_file(fx.state(), 0);  // emptied: a 0-byte file
  drop_document(fx, "coordination.yaml", "request-8841");
  const uint64_t before = fx.homeserver().journal().last_seq();

  auto plan = run(fx, {"plan", fx.manifests(), "--now", k_day0});
  CHECK(plan.exit_code == 1);
  CHECK(plan.out.find("room.dm/request-8841") != std::string::npos);
  CHECK(plan.out.find("is protected (protect: true) and cannot be removed from the desired state") !=
        std::string::npos);
  CHECK(plan.out.find("will be archived") == std::string::npos);
  CHECK(plan.out.find("\nWarning: the state store knew none of the") != std::string::npos);

  auto apply = run(fx, {"apply", fx.manifests(), "--yes", "--now", k_day0});
  CHECK(apply.exit_code == 1);
  CHECK(apply.out.find("will be archived") == std::string::npos);
  CHECK(writes_since(fx, before) == 0);
}

TEST_CASE("e2e store: a reset store is said in the plan, in every format, until it is rebuilt",
          "[e2e][store][reset]") {
  e2e::Fixture fx;
  REQUIRE(run(fx, {"apply", fx.manifests(), "--yes", "--now", k_day0}).exit_code == 0);
  std::filesystem::resize_file(fx.state(), 0);
  const std::string rooms = std::to_string(e2e::desired_rooms(fx).size()) + " rooms";

  SECTION("text") {
    auto plan = run(fx, {"plan", fx.manifests(), "--now", k_day0, "--detailed-exitcode"});
    CHECK(plan.exit_code == 0);
    CHECK(plan.out.rfind("No changes.", 0) == 0);
    CHECK(plan.out.find("\nWarning: the state store knew none of the " + rooms + " on the homeserver that carry this "
                        "instance's marker (it is new or was emptied): room ids, archive dates and protection are "
                        "taken from the rooms' markers") != std::string::npos);
    // That plan kept what it found: the next one knows the rooms.
    auto again = run(fx, {"plan", fx.manifests(), "--now", k_day0});
    CHECK(again.exit_code == 0);
    CHECK(again.out.find("Warning: the state store") == std::string::npos);
  }
  SECTION("json") {
    auto plan = run(fx, {"plan", fx.manifests(), "--now", k_day0, "--format", "json"});
    REQUIRE(plan.exit_code == 0);
    nlohmann::json json = nlohmann::json::parse(plan.out);
    REQUIRE(json.contains("warnings"));
    REQUIRE(json["warnings"].size() == 1);
    CHECK(json["warnings"][0].get<std::string>().rfind("the state store knew none of the " + rooms, 0) == 0);
  }
  SECTION("markdown") {
    auto plan = run(fx, {"plan", fx.manifests(), "--now", k_day0, "--format", "markdown"});
    REQUIRE(plan.exit_code == 0);
    CHECK(plan.out.find("> **Warning:** the state store knew none of the " + rooms) != std::string::npos);
  }
  SECTION("a room removed meanwhile is archived only when an operator says so") {
    drop_document(fx, "coordination.yaml", "request-8841");
    const uint64_t before = fx.homeserver().journal().last_seq();
    auto refused = run(fx, {"apply", fx.manifests(), "--yes", "--now", k_day0});
    CHECK(refused.exit_code == 1);
    CHECK(refused.err.find("Error: mass-change guard: the state store knew none of the managed rooms") !=
          std::string::npos);
    CHECK(writes_since(fx, before) == 0);
    auto allowed = run(fx, {"apply", fx.manifests(), "--yes", "--now", k_day0, "--allow-mass-change"});
    CHECK(allowed.exit_code == 0);
    CHECK(allowed.out.find("room.dm/request-8841 will be archived") != std::string::npos);
  }
  SECTION("a saved plan made from it still applies") {
    const std::string saved = fx.scratch("reset.plan");
    REQUIRE(run(fx, {"plan", fx.manifests(), "--now", k_day0, "--out", saved}).exit_code == 0);
    CHECK(run(fx, {"apply", "--plan", saved}).exit_code == 0);
  }
}

TEST_CASE("e2e store: a sync token ahead of the server does not hide a rename", "[e2e][store][sync]") {
  e2e::Fixture fx;
  REQUIRE(run(fx, {"apply", fx.manifests(), "--yes"}).exit_code == 0);
  REQUIRE(run(fx, {"plan", fx.manifests(), "--detailed-exitcode"}).exit_code == 0);
  const std::string room_id = room_id_of(fx, "%23mxctl.community.riverside%3Amxsim.test");
  REQUIRE(fx.as_bot("PUT", "/_matrix/client/v3/rooms/" + room_id + "/state/m.room.name/", {{"name", "Renamed"}})
              .status == 200);
  {
    // A token this server never issued (well-formed, far ahead of it), with
    // the snapshots of the last pass still behind it.
    auto store = adapters::open_sqlite_store(fx.state());
    REQUIRE(store);
    REQUIRE((*store)->set_sync_token("s99999999_0_0_0"));
  }
  auto plan = run(fx, {"plan", fx.manifests(), "--detailed-exitcode"});
  CHECK(plan.exit_code == 2);
  CHECK(plan.out.find("~ name = \"Renamed\" -> \"Riverside Commons\"") != std::string::npos);
}

TEST_CASE("e2e store: plan reads a store it cannot write, and writes nothing to it", "[e2e][store][read-only]") {
  e2e::Fixture fx;
  REQUIRE(run(fx, {"apply", fx.manifests(), "--yes"}).exit_code == 0);
  const std::filesystem::path state_dir = std::filesystem::path(fx.state()).parent_path();
  // Root writes whatever the modes say: the plan runs as nobody, who may
  // read the manifests and the store and write neither.
  std::filesystem::permissions(state_dir, std::filesystem::perms::others_exec | std::filesystem::perms::others_read,
                               std::filesystem::perm_options::add);
  std::filesystem::permissions(fx.state(), std::filesystem::perms::owner_read | std::filesystem::perms::group_read |
                                               std::filesystem::perms::others_read);
  const bool read_only_directory = GENERATE(false, true);
  INFO((read_only_directory ? "read-only directory" : "read-only file"));
  if (read_only_directory) {
    std::filesystem::permissions(state_dir, std::filesystem::perms::owner_write | std::filesystem::perms::group_write |
                                                std::filesystem::perms::others_write,
                                 std::filesystem::perm_options::remove);
  } else {
    // Only the file is read-only: the directory would take a -shm or -wal.
    std::filesystem::permissions(state_dir, std::filesystem::perms::others_write, std::filesystem::perm_options::add);
  }
  const std::string before = read_file(fx.state());

  std::vector<std::string> argv;
  if (geteuid() == 0) {
    argv = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"};
  }
  argv.insert(argv.end(), {MXCTL_BINARY, "plan", fx.manifests(), "--detailed-exitcode"});
  auto plan = testing_support::run_process(argv, fx.env());
  INFO(plan.out << plan.err);
  CHECK(plan.exit_code == 0);
  CHECK(plan.out.rfind("No changes.", 0) == 0);
  CHECK(plan.err.find("Note: the state store cannot be written, so this plan kept nothing") != std::string::npos);
  CHECK(read_file(fx.state()) == before);
  CHECK_FALSE(std::filesystem::exists(fx.state() + "-wal"));
  CHECK_FALSE(std::filesystem::exists(fx.state() + "-shm"));

  std::filesystem::permissions(state_dir, std::filesystem::perms::owner_all, std::filesystem::perm_options::add);
  std::filesystem::permissions(fx.state(), std::filesystem::perms::owner_write, std::filesystem::perm_options::add);
}

TEST_CASE("e2e store: plan takes no lock, a held lock is removed with mxctl unlock ID", "[e2e][store][lock]") {
  e2e::Fixture fx;
  REQUIRE(run(fx, {"apply", fx.manifests(), "--yes"}).exit_code == 0);
  auto store = adapters::open_sqlite_store(fx.state());
  REQUIRE(store);
  auto held = (*store)->lock("reconcile");  // as a pass that hangs
  REQUIRE(held);
  const std::string lock_id = lock_id_in(fx.state());

  auto plan = run(fx, {"plan", fx.manifests(), "--detailed-exitcode"});
  CHECK(plan.exit_code == 0);
  CHECK(plan.err.find("Note: a pass holds the lock, so this plan did not save its observation cache") !=
        std::string::npos);

  auto refused = run(fx, {"apply", fx.manifests(), "--yes"});
  CHECK(refused.exit_code == 1);
  CHECK(refused.err.find("another mxctl pass (reconcile, pid " + std::to_string(getpid())) != std::string::npos);
  CHECK(refused.err.find("remove the lock with: mxctl unlock " + lock_id) != std::string::npos);

  auto wrong = run(fx, {"unlock", "0000000000000000"});
  CHECK(wrong.exit_code == 1);
  CHECK(wrong.err.find("Error: the lock is " + lock_id) != std::string::npos);

  auto unlocked = run(fx, {"unlock", lock_id});
  CHECK(unlocked.exit_code == 0);
  CHECK(unlocked.out.find("Removed the pass lock " + lock_id + " (reconcile, pid ") != std::string::npos);
  auto audit = run(fx, {"audit", "--key", "lock"});
  CHECK(audit.out.find("unlock") != std::string::npos);

  CHECK(run(fx, {"apply", fx.manifests(), "--yes"}).exit_code == 0);
  auto not_locked = run(fx, {"unlock", lock_id});
  CHECK(not_locked.exit_code == 1);
  CHECK(not_locked.err.find("Error: the state store is not locked") != std::string::npos);

  auto elsewhere = run(fx, {"unlock", lock_id, "--state", fx.scratch("missing.db")});
  CHECK(elsewhere.exit_code == 1);
  CHECK(elsewhere.err.find("Error: there is no state store at") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(fx.scratch("missing.db")));
}

TEST_CASE("e2e store: --help tells what plan writes and how to remove a lock", "[e2e][store][lock]") {
  e2e::Fixture fx;
  auto help = run(fx, {"--help"});
  CHECK(help.out.find("unlock") != std::string::npos);
  auto plan_help = run(fx, {"plan", "--help"});
  CHECK(plan_help.out.find("takes no lock") != std::string::npos);
  auto unlock_help = run(fx, {"unlock", "--help"});
  CHECK(unlock_help.out.find("lease") != std::string::npos);
}

TEST_CASE("e2e store: the state store and a saved plan are private to their owner", "[e2e][store][modes]") {
  e2e::Fixture fx;
  // Whatever the umask lets through, mxctl asks for 0600.
  const mode_t old_mask = ::umask(0);
  const std::string saved = fx.scratch("private.plan");
  auto plan = run(fx, {"plan", fx.manifests(), "--out", saved});
  ::umask(old_mask);
  REQUIRE(plan.exit_code == 0);
  CHECK(mode_of(fx.state()) == 0600);
  CHECK(mode_of(saved) == 0600);
}

}  // namespace state_store_test
