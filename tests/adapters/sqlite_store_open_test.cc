// What opening a state store checks before it trusts a file: damage (a
// real store corrupted at random places), file modes, and read-only files.

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "adapters/store/sqlite_db.h"
#include "adapters/store/sqlite_schema.h"
#include "adapters/store/sqlite_store_checks.h"
#include "adapters/store/sqlite_state_store.h"
#include "tests/support/temp_dir.h"

namespace sqlite_store_open_test {

using adapters::SqliteStateStore;
using Kind = model::Error::Kind;

namespace {

std::unique_ptr<SqliteStateStore> open_store(const std::string& path) {
  auto store = SqliteStateStore::open(path);
  REQUIRE(store.has_value());
  return std::move(*store);
}

// A store as a few weeks of passes leave it: rooms, snapshots, accounts,
// protection, archives, a tombstone, runs with their journal and audit.
void fill(SqliteStateStore& store) {
  std::map<std::string, std::optional<std::string>> snapshots;
  for (int i = 0; i < 24; ++i) {
    const std::string key = "community/c" + std::to_string(i);
    const std::string room_id = "!room" + std::to_string(i) + ":example.org";
    REQUIRE(store.set_room_id(key, room_id));
    REQUIRE(store.mark_message_sent(key));
    REQUIRE(store.mark_direct_set(key, "@user" + std::to_string(i) + ":example.org"));
    snapshots[room_id] = R"([{"type":"m.room.name","state_key":"","sender":"@mxctl:example.org","content":{"name":"Room )" +
                         std::to_string(i) + R"("}}])";
  }
  REQUIRE(store.save_observation("s4242_17_0_9", snapshots));
  for (int i = 0; i < 12; ++i) {
    const std::string key = "person" + std::to_string(i);
    REQUIRE(store.remember_account(key, "@" + key + ":example.org"));
  }
  REQUIRE(store.set_account_suspended("person3", true));
  REQUIRE(store.set_protected("room.community/c1", true));
  REQUIRE(store.set_protected("account.person2", true));
  REQUIRE(store.record_archive("community/c5", "!room5:example.org", 1700000000000));
  REQUIRE(store.record_tombstone({"community/old", "!old:example.org", 1600000000000, 1606000000000}));
  for (int run = 0; run < 3; ++run) {
    auto id = store.begin_run("apply");
    REQUIRE(id);
    for (int i = 0; i < 20; ++i) {
      REQUIRE(store.record({*id, "set name of community/c" + std::to_string(i), "ok", "", "", 1, {}}));
      adapters::AuditEntry entry;
      entry.run_id = *id;
      entry.at = std::chrono::system_clock::time_point(std::chrono::milliseconds(1700000000000 + i));
      entry.action = "set_state m.room.name";
      entry.key = "community/c" + std::to_string(i);
      entry.target = "!room" + std::to_string(i) + ":example.org";
      entry.before = "Old " + std::to_string(i);
      entry.after = "Room " + std::to_string(i);
      entry.result = "ok";
      REQUIRE(store.append_audit(entry));
    }
    REQUIRE(store.finish_run(*id, "succeeded", 20, 0));
  }
}

template <typename T>
void show(std::ostringstream& out, const char* what, const model::Result<T>& read) {
  out << what << ": ";
  if (read) {
    out << Catch::Detail::stringify(*read);
  } else {
    out << "ERROR " << read.error().message;
  }
  out << "\n";
}

// Everything a pass can read from the store, as text; equal texts mean the
// store answers every read the same.
std::string everything_read(SqliteStateStore& store) {
  std::ostringstream out;
  show(out, "rooms", store.room_ids());
  show(out, "messages", store.messages_sent());
  show(out, "directs", store.directs_set());
  show(out, "token", store.sync_token());
  show(out, "snapshots", store.room_snapshots());
  show(out, "written", store.rooms_written());
  show(out, "created", store.journaled_room_creations());
  show(out, "serial", store.serial());
  show(out, "archives", store.archive_records());
  show(out, "accounts", store.managed_accounts());
  show(out, "suspended", store.suspended_accounts());
  show(out, "protected", store.protected_addresses());
  auto tombstones = store.tombstones();
  out << "tombstones: " << (tombstones ? std::to_string(tombstones->size()) + " " + tombstones->front().key
                                       : "ERROR " + tombstones.error().message)
      << "\n";
  auto runs = store.runs(10);
  if (!runs) {
    out << "runs: ERROR " << runs.error().message << "\n";
  } else {
    for (const adapters::RunRecord& run : *runs) {
      out << "run " << run.id << " " << run.command << " " << run.outcome << " " << run.changes_applied << "\n";
      auto journal = store.journal(run.id);
      if (!journal) {
        out << "journal: ERROR " << journal.error().message << "\n";
        continue;
      }
      for (const adapters::JournalEntry& entry : *journal) {
        out << "  " << entry.operation << " " << entry.result << " " << entry.attempt << " " << entry.message << "\n";
      }
    }
  }
  auto audit = store.audit({});
  if (!audit) {
    out << "audit: ERROR " << audit.error().message << "\n";
  } else {
    for (const adapters::AuditEntry& entry : *audit) {
      out << "audit " << entry.id << " " << entry.run_id << " " << entry.at.time_since_epoch().count() << " "
          << entry.action << " " << entry.key << " " << entry.target << " " << entry.before << " " << entry.after
          << " " << entry.result << " " << entry.message << "\n";
    }
  }
  return out.str();
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

const char* const k_damaged = "the state store is damaged";

bool is_damage_refusal(const std::string& message) {
  return message.find(k_damaged) != std::string::npos && message.find("--state") != std::string::npos &&
         message.find("rebuilt from the rooms' markers") != std::string::npos;
}

mode_t mode_of(const std::string& path) {
  struct stat info {};
  REQUIRE(::stat(path.c_str(), &info) == 0);
  return info.st_mode & 0777;
}

// Sets the umask for one scope, so a test sees the modes mxctl asks for
// rather than what the umask happens to take away.
class Umask {
 public:
  explicit Umask(mode_t mask) : m_old(::umask(mask)) {}
  ~Umask() { ::umask(m_old); }

 private:
  mode_t m_old;
};

}  // namespace

TEST_CASE("sqlite store: random in-place corruption is refused or changes nothing read", "[store][damage]") {
  testing_support::TempDir dir;
  const std::string pristine_path = (dir.path() / "pristine.db").string();
  std::string expected;
  {
    auto store = open_store(pristine_path);
    fill(*store);
    expected = everything_read(*store);
  }
  // Closing the last connection checkpoints the WAL into the file.
  REQUIRE_FALSE(std::filesystem::exists(pristine_path + "-wal"));
  const std::string pristine = read_bytes(pristine_path);
  REQUIRE(pristine.size() > 16 * 4096);

  std::mt19937 random(20261206);
  const std::string path = (dir.path() / "mxctl.db").string();
  int refused = 0;
  int harmless = 0;
  for (int attempt = 0; attempt < 200; ++attempt) {
    std::string bytes = pristine;
    const std::size_t offset = std::uniform_int_distribution<std::size_t>(0, bytes.size() - 1)(random);
    const std::size_t length = std::uniform_int_distribution<std::size_t>(1, 8)(random);
    std::string before = bytes.substr(offset, length);
    for (std::size_t i = offset; i < std::min(bytes.size(), offset + length); ++i) {
      bytes[i] = static_cast<char>(std::uniform_int_distribution<int>(0, 255)(random));
    }
    if (bytes == pristine) {
      continue;
    }
    std::filesystem::remove(path);
    std::filesystem::remove(path + "-wal");
    std::filesystem::remove(path + "-shm");
    write_bytes(path, bytes);
    INFO("attempt " << attempt << ": " << length << " bytes at offset " << offset << " (page "
                    << offset / 4096 + 1 << ")");
    auto store = SqliteStateStore::open(path);
    if (!store) {
      INFO(store.error().message);
      CHECK(store.error().kind == Kind::invalid);
      CHECK(is_damage_refusal(store.error().message));
      ++refused;
      continue;
    }
    const std::string read = everything_read(**store);
    if (read.find(k_damaged) != std::string::npos) {
      // Damage found by a read rather than at opening says the same.
      ++refused;
      continue;
    }
    CHECK(read == expected);
    ++harmless;
  }
  // Every page carries a checksum, so nearly every change is found; what
  // is not found must have changed nothing (checked above).
  INFO("refused " << refused << ", harmless " << harmless);
  CHECK(refused > 0);
}

TEST_CASE("sqlite store: a damaged page outside the checked tables is refused when read", "[store][damage]") {
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "mxctl.db").string();
  {
    auto store = open_store(path);
    fill(*store);
  }
  // The last audit row's page: flip one byte of its text.
  std::string bytes = read_bytes(path);
  const std::size_t at = bytes.rfind("Room 19");
  REQUIRE(at != std::string::npos);
  bytes[at] = 'r';
  write_bytes(path, bytes);

  adapters::SqliteStoreOptions options;
  options.full_check_bytes = 0;  // as for a large store: only the guarding tables at opening
  auto store = SqliteStateStore::open(path, options);
  REQUIRE(store);
  CHECK((*store)->room_ids());
  auto audit = (*store)->audit({});
  REQUIRE_FALSE(audit);
  CHECK(audit.error().kind == Kind::invalid);
  CHECK_THAT(audit.error().message, Catch::StartsWith("cannot read the audit log: "));
  CHECK(is_damage_refusal(audit.error().message));

  SECTION("and at opening when the whole file is checked") {
    store->reset();
    auto refused = SqliteStateStore::open(path);
    REQUIRE_FALSE(refused);
    CHECK(is_damage_refusal(refused.error().message));
  }
}

TEST_CASE("sqlite store: a store from before page checksums gets them and keeps its data", "[store][damage]") {
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "mxctl.db").string();
  {
    // As a version 5 build made it: no bytes reserved for checksums.
    auto db = adapters::sqlite::Database::open(path, "open raw");
    REQUIRE(db);
    REQUIRE(adapters::migrate_schema(**db));
    REQUIRE((*db)->exec("ALTER TABLE room_snapshots DROP COLUMN digest; DROP TABLE room_reads; DROP TABLE compiled_desired; DROP TABLE converged_verdict; DROP TABLE appservice_transactions; ALTER TABLE meta DROP COLUMN probe_key; ALTER TABLE meta DROP COLUMN probe_answer; ALTER TABLE meta DROP COLUMN probe_taken_at; ALTER TABLE lock DROP COLUMN lock_id; "
                        "ALTER TABLE lock DROP COLUMN renewed_at; "
                        "ALTER TABLE lock DROP COLUMN lease_ms; PRAGMA application_id = 0; PRAGMA user_version = 5",
                        "downgrade"));
    REQUIRE((*db)->exec("INSERT INTO rooms (key, room_id, updated_at) VALUES ('community/c7', '!room7:example.org', "
                        "'2024-05-01T12:00:00.000Z'); "
                        "INSERT INTO protected (address, since) VALUES ('room.community/c7', '2024-05-01T12:00:00.000Z'); "
                        "INSERT INTO archives (key, room_id, archived_at) VALUES ('community/c8', '!room8:example.org', "
                        "1700000000000)",
                        "fill"));
    REQUIRE(adapters::reserved_bytes(**db) == 0);
  }
  {
    auto store = open_store(path);
    CHECK(store->room_ids() == std::map<std::string, std::string>{{"community/c7", "!room7:example.org"}});
    CHECK(store->protected_addresses() == std::set<std::string>{"room.community/c7"});
    CHECK(store->archive_records() == std::map<std::string, std::int64_t>{{"community/c8", 1700000000000}});
  }
  auto db = adapters::sqlite::Database::open(path, "open raw");
  REQUIRE(db);
  CHECK(adapters::reserved_bytes(**db) == adapters::sqlite::k_checksum_bytes);
  CHECK(adapters::check_integrity(**db, true));
  db->reset();

  // Checked like any other store from now on.
  std::string bytes = read_bytes(path);
  const std::size_t at = bytes.rfind("!room7:example.org");
  REQUIRE(at != std::string::npos);
  bytes[at + 5] = '8';
  write_bytes(path, bytes);
  auto refused = SqliteStateStore::open(path);
  REQUIRE_FALSE(refused);
  CHECK(is_damage_refusal(refused.error().message));
}

TEST_CASE("sqlite store: a store whose header lost its checksums is refused", "[store][damage]") {
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "mxctl.db").string();
  { open_store(path); }
  std::string bytes = read_bytes(path);
  REQUIRE(bytes[20] == adapters::sqlite::k_checksum_bytes);
  bytes[20] = 0;
  write_bytes(path, bytes);
  auto refused = SqliteStateStore::open(path);
  REQUIRE_FALSE(refused);
  CHECK(is_damage_refusal(refused.error().message));
}

TEST_CASE("sqlite store: a truncated file is refused with the way out", "[store][damage]") {
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "mxctl.db").string();
  {
    auto store = open_store(path);
    fill(*store);
  }
  const std::string bytes = read_bytes(path);
  write_bytes(path, bytes.substr(0, bytes.size() / 2));
  auto store = SqliteStateStore::open(path);
  REQUIRE_FALSE(store);
  CHECK(store.error().kind == Kind::invalid);
  CHECK_THAT(store.error().message, Catch::StartsWith("cannot open state store " + path + ": "));
  CHECK(is_damage_refusal(store.error().message));
}

TEST_CASE("sqlite store: an emptied file is a new store and says so", "[store]") {
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "mxctl.db").string();
  {
    auto store = open_store(path);
    CHECK(store->created());
    REQUIRE(store->set_room_id("community/a", "!a:x"));
  }
  CHECK_FALSE(open_store(path)->created());
  write_bytes(path, "");
  auto store = open_store(path);
  CHECK(store->created());
  CHECK(store->room_ids().value().empty());
}

TEST_CASE("sqlite store: the store and SQLite's files beside it are private to their owner", "[store][modes]") {
  testing_support::TempDir dir;
  // No umask to hide a mode that is too open.
  Umask no_mask(0);
  const std::string path = (dir.path() / "mxctl.db").string();
  auto store = open_store(path);
  REQUIRE(store->set_room_id("community/a", "!a:x"));
  REQUIRE(std::filesystem::exists(path + "-wal"));
  REQUIRE(std::filesystem::exists(path + "-shm"));
  CHECK(mode_of(path) == 0600);
  CHECK(mode_of(path + "-wal") == 0600);
  CHECK(mode_of(path + "-shm") == 0600);
  store.reset();

  SECTION("the rollback journal of a file without WAL") {
    // A filesystem without shared memory keeps the rollback journal;
    // PERSIST leaves it there to be looked at.
    auto db = adapters::sqlite::Database::open(path, "open raw");
    REQUIRE(db);
    REQUIRE((*db)->exec("PRAGMA journal_mode = PERSIST", "journal mode"));
    REQUIRE((*db)->exec("INSERT INTO rooms (key, room_id, updated_at) VALUES ('b', '!b:x', 'now')", "write"));
    REQUIRE(std::filesystem::exists(path + "-journal"));
    CHECK(mode_of(path + "-journal") == 0600);
  }
}

TEST_CASE("sqlite store: a store the process cannot write is read as it is", "[store][read-only]") {
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "state" / "mxctl.db").string();
  std::filesystem::create_directories(dir.path() / "state");
  {
    auto store = open_store(path);
    fill(*store);
  }
  std::string expected;
  {
    auto store = open_store(path);
    expected = everything_read(*store);
  }
  const bool read_only_directory = GENERATE(false, true);
  INFO((read_only_directory ? "read-only directory" : "read-only file"));
  std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::group_read |
                                         std::filesystem::perms::others_read);
  if (read_only_directory) {
    std::filesystem::permissions(dir.path() / "state", std::filesystem::perms::owner_read |
                                                           std::filesystem::perms::owner_exec |
                                                           std::filesystem::perms::others_read |
                                                           std::filesystem::perms::others_exec);
  }
  std::filesystem::permissions(dir.path(), std::filesystem::perms::others_exec, std::filesystem::perm_options::add);

  // Root writes whatever the modes say, so the reader runs as nobody.
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) {
      _exit(10);
    }
    auto writer = SqliteStateStore::open(path);
    if (writer || writer.error().kind != Kind::forbidden) {
      _exit(11);  // a pass that writes must be refused
    }
    adapters::SqliteStoreOptions options;
    options.read_only_fallback = true;
    auto store = SqliteStateStore::open(path, options);
    if (!store) {
      std::fprintf(stderr, "%s\n", store.error().message.c_str());
      _exit(12);
    }
    if (!(*store)->read_only() || everything_read(**store) != expected) {
      _exit(13);
    }
    if ((*store)->set_room_id("community/z", "!z:x")) {
      _exit(14);
    }
    store->reset();
    _exit(0);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  // The reader left nothing behind in a directory it could not write to.
  CHECK_FALSE(std::filesystem::exists(path + "-shm"));
  CHECK_FALSE(std::filesystem::exists(path + "-wal"));
  std::filesystem::permissions(dir.path() / "state", std::filesystem::perms::owner_all);
  std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

TEST_CASE("sqlite store: a reader with no store to read plans from an empty one in memory", "[store][read-only]") {
  testing_support::TempDir dir;
  std::filesystem::create_directories(dir.path() / "locked");
  const std::string path = (dir.path() / "locked" / "mxctl.db").string();
  std::filesystem::permissions(dir.path() / "locked", std::filesystem::perms::owner_read |
                                                          std::filesystem::perms::owner_exec |
                                                          std::filesystem::perms::others_read |
                                                          std::filesystem::perms::others_exec);
  std::filesystem::permissions(dir.path(), std::filesystem::perms::others_exec, std::filesystem::perm_options::add);
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) {
      _exit(10);
    }
    adapters::SqliteStoreOptions options;
    options.read_only_fallback = true;
    auto store = SqliteStateStore::open(path, options);
    if (!store || !(*store)->read_only() || !(*store)->created() || !(*store)->room_ids().value().empty()) {
      _exit(12);
    }
    _exit(0);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK_FALSE(std::filesystem::exists(path));
  std::filesystem::permissions(dir.path() / "locked", std::filesystem::perms::owner_all);
}

}  // namespace sqlite_store_open_test
