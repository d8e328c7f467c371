// Group commit, against every engine: grouped writes wait in one
// transaction until max_writes or max_age, everything else commits them
// first, a failed write loses only itself, and a process killed outright
// loses only what was still pending. A second store on the same storage
// plays the part of every other connection.

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include "adapters/pass_lock.h"
#include "adapters/state_store.h"
#include "tests/adapters/store_under_test.h"
#include "tests/support/eventually.h"

namespace store_group_commit_contract_test {

using adapters::AuditEntry;
using adapters::GroupCommit;
using adapters::JournalEntry;
using testing_support::StoreUnderTest;
using std::chrono::milliseconds;

namespace {

JournalEntry entry(std::int64_t run, const std::string& operation) {
  return JournalEntry{run, operation, "ok", "", "", 1, {}};
}

AuditEntry audit_entry(std::int64_t run, const std::string& key) {
  AuditEntry audit;
  audit.run_id = run;
  audit.at = std::chrono::system_clock::now();
  audit.action = "create_room";
  audit.key = key;
  audit.result = "ok";
  return audit;
}

// Never due by age within a test: only the count or an explicit commit.
GroupCommit by_count(int writes) { return GroupCommit{writes, std::chrono::hours(1)}; }

// How many journal rows of `run` `reader` sees.
std::size_t journal_rows(adapters::StateStore& reader, std::int64_t run) {
  auto journal = reader.journal(run);
  INFO((journal ? std::string() : journal.error().message));
  REQUIRE(journal);
  return journal->size();
}

}  // namespace

TEST_CASE("store contract: grouped writes are committed together once max_writes are pending", "[store][group]") {
  testing_support::for_each_store_engine([](StoreUnderTest& under_test) {
    auto store = under_test.open();
    auto other = under_test.open();
    auto run = store->begin_run("apply");
    REQUIRE(run);
    REQUIRE(store->set_group_commit(by_count(3)));

    REQUIRE(store->record(entry(*run, "a")));
    REQUIRE(store->append_audit(audit_entry(*run, "a")));
    CHECK(journal_rows(*other, *run) == 0);
    CHECK(other->audit({}).value().empty());
    // This store's own reads see what is pending.
    CHECK(journal_rows(*store, *run) == 1);
    CHECK(store->audit({}).value().size() == 1);
    REQUIRE(store->set_room_id("community/a", "!a:x"));
    CHECK(journal_rows(*other, *run) == 1);
    CHECK(other->audit({}).value().size() == 1);
    CHECK(other->room_ids().value().size() == 1);

    REQUIRE(store->record(entry(*run, "b")));
    CHECK(journal_rows(*other, *run) == 1);
    REQUIRE(store->flush());
    CHECK(journal_rows(*other, *run) == 2);
    // Nothing pending: flushing again is harmless.
    REQUIRE(store->flush());
  });
}

TEST_CASE("store contract: each write the group takes waits for its commit", "[store][group]") {
  // The writes PassLock names as grouped, each with what another connection
  // reads of it.
  struct Grouped {
    const char* name;
    std::function<bool(adapters::StateStore&, std::int64_t run)> write;
    std::function<bool(adapters::StateStore&, std::int64_t run)> seen;
  };
  const std::vector<Grouped> writes = {
      {"record", [](adapters::StateStore& s, std::int64_t run) { return s.record(entry(run, "a")).has_value(); },
       [](adapters::StateStore& s, std::int64_t run) { return journal_rows(s, run) == 1; }},
      {"append_audit",
       [](adapters::StateStore& s, std::int64_t run) { return s.append_audit(audit_entry(run, "a")).has_value(); },
       [](adapters::StateStore& s, std::int64_t) { return s.audit({}).value().size() == 1; }},
      {"mark_room_written",
       [](adapters::StateStore& s, std::int64_t) { return s.mark_room_written("!a:x").has_value(); },
       [](adapters::StateStore& s, std::int64_t) { return s.rooms_written().value().size() == 1; }},
      {"set_room_id",
       [](adapters::StateStore& s, std::int64_t) { return s.set_room_id("community/a", "!a:x").has_value(); },
       [](adapters::StateStore& s, std::int64_t) { return s.room_ids().value().size() == 1; }},
      {"mark_message_sent",
       [](adapters::StateStore& s, std::int64_t) { return s.mark_message_sent("community/a").has_value(); },
       [](adapters::StateStore& s, std::int64_t) { return s.messages_sent().value().size() == 1; }},
      {"mark_direct_set",
       [](adapters::StateStore& s, std::int64_t) { return s.mark_direct_set("dm/a", "@u:x").has_value(); },
       [](adapters::StateStore& s, std::int64_t) { return s.directs_set().value().size() == 1; }},
      {"record_archive",
       [](adapters::StateStore& s, std::int64_t) { return s.record_archive("community/b", "!b:x", 2000).has_value(); },
       [](adapters::StateStore& s, std::int64_t) { return s.archive_records().value().size() == 2; }},
      {"clear_archive",
       [](adapters::StateStore& s, std::int64_t) { return s.clear_archive("community/kept").has_value(); },
       [](adapters::StateStore& s, std::int64_t) { return s.archive_records().value().empty(); }},
  };
  testing_support::for_each_store_engine([&writes](StoreUnderTest& under_test) {
    for (const Grouped& grouped : writes) {
      DYNAMIC_SECTION(grouped.name) {
        auto store = under_test.open();
        auto other = under_test.open();
        auto run = store->begin_run("apply");
        REQUIRE(run);
        REQUIRE(store->record_archive("community/kept", "!kept:x", 1000));
        REQUIRE(store->set_group_commit(by_count(1000)));
        REQUIRE(grouped.write(*store, *run));
        CHECK(grouped.seen(*store, *run));
        CHECK_FALSE(grouped.seen(*other, *run));
        REQUIRE(store->flush());
        CHECK(grouped.seen(*other, *run));
      }
    }
  });
}

TEST_CASE("store contract: each write the group does not take commits what is pending first", "[store][group]") {
  using Write = std::function<bool(adapters::StateStore&, std::int64_t run)>;
  const std::vector<std::pair<const char*, Write>> writes = {
      {"begin_run", [](adapters::StateStore& s, std::int64_t) { return s.begin_run("plan").has_value(); }},
      {"finish_run",
       [](adapters::StateStore& s, std::int64_t run) { return s.finish_run(run, "succeeded", 1, 0).has_value(); }},
      {"remember_account",
       [](adapters::StateStore& s, std::int64_t) { return s.remember_account("alice", "@alice:x").has_value(); }},
      {"set_account_suspended",
       [](adapters::StateStore& s, std::int64_t) { return s.set_account_suspended("alice", true).has_value(); }},
      {"record_tombstone",
       [](adapters::StateStore& s, std::int64_t) {
         return s.record_tombstone({"community/gone", "!gone:x", 1000, 9000}).has_value();
       }},
      {"set_protected",
       [](adapters::StateStore& s, std::int64_t) { return s.set_protected("room.community/a", true).has_value(); }},
      {"set_sync_token", [](adapters::StateStore& s, std::int64_t) { return s.set_sync_token("s9").has_value(); }},
      {"save_observation",
       [](adapters::StateStore& s, std::int64_t) {
         return s.save_observation("s9", {{"!a:x", std::string("[]")}}).has_value();
       }},
      {"forget_room",
       [](adapters::StateStore& s, std::int64_t) { return s.forget_room("community/gone").has_value(); }},
      {"clear_rooms_written",
       [](adapters::StateStore& s, std::int64_t) { return s.clear_rooms_written({"!gone:x"}).has_value(); }},
      {"keep_room_reads",
       [](adapters::StateStore& s, std::int64_t) { return s.keep_room_reads({{"!gone:x", {"d", "r"}}}).has_value(); }},
      {"keep_probe", [](adapters::StateStore& s, std::int64_t) { return s.keep_probe({"k", "{}", 1}).has_value(); }},
      {"keep_compiled_desired",
       [](adapters::StateStore& s, std::int64_t) { return s.keep_compiled_desired({"d", "state"}).has_value(); }},
      {"keep_converged_verdict",
       [](adapters::StateStore& s, std::int64_t) { return s.keep_converged_verdict({"k", 0, {}}).has_value(); }},
      {"record_transaction",
       [](adapters::StateStore& s, std::int64_t) { return s.record_transaction("txn").has_value(); }},
      {"save_cache_unless_locked",
       [](adapters::StateStore& s, std::int64_t) {
         auto saved = s.save_cache_unless_locked(adapters::CacheUpdate{});
         return saved && *saved;
       }},
  };
  testing_support::for_each_store_engine([&writes](StoreUnderTest& under_test) {
    for (const auto& [name, write] : writes) {
      DYNAMIC_SECTION(name) {
        auto store = under_test.open();
        auto other = under_test.open();
        auto run = store->begin_run("apply");
        REQUIRE(run);
        REQUIRE(store->set_group_commit(by_count(1000)));
        REQUIRE(store->record(entry(*run, "a")));
        REQUIRE(store->mark_message_sent("community/a"));
        REQUIRE(journal_rows(*other, *run) == 0);
        REQUIRE(write(*store, *run));
        CHECK(journal_rows(*other, *run) == 1);
        CHECK(other->messages_sent().value() == std::set<std::string>{"community/a"});
      }
    }
  });
}

TEST_CASE("store contract: grouped writes come due after max_age, at the next grouped write", "[store][group]") {
  testing_support::for_each_store_engine([](StoreUnderTest& under_test) {
    auto store = under_test.open();
    auto other = under_test.open();
    auto run = store->begin_run("apply");
    REQUIRE(run);
    REQUIRE(store->set_group_commit(GroupCommit{1000, milliseconds(50)}));
    REQUIRE(store->record(entry(*run, "a")));
    CHECK(journal_rows(*other, *run) == 0);
    std::this_thread::sleep_for(milliseconds(60));
    REQUIRE(store->record(entry(*run, "b")));
    CHECK(journal_rows(*other, *run) == 2);
  });
}

TEST_CASE("store contract: every other write, ending the group, the lock and closing commit what is pending",
          "[store][group]") {
  testing_support::for_each_store_engine([](StoreUnderTest& under_test) {
    auto store = under_test.open();
    auto other = under_test.open();
    auto run = store->begin_run("apply");
    REQUIRE(run);
    REQUIRE(store->set_group_commit(by_count(1000)));
    REQUIRE(store->record(entry(*run, "a")));
    REQUIRE(store->mark_message_sent("community/a"));
    REQUIRE(store->mark_direct_set("dm/a", "@u:x"));
    REQUIRE(store->record_archive("community/a", "!a:x", 1000));
    REQUIRE(journal_rows(*other, *run) == 0);
    REQUIRE(other->messages_sent().value().empty());
    REQUIRE(other->archive_records().value().empty());

    SECTION("a write that is never grouped") {
      REQUIRE(store->finish_run(*run, "succeeded", 1, 0));
      CHECK(journal_rows(*other, *run) == 1);
      CHECK(other->messages_sent().value().size() == 1);
      CHECK(other->directs_set().value().size() == 1);
      CHECK(other->archive_records().value().size() == 1);
    }
    SECTION("a write that must be durable at once goes in with the group") {
      REQUIRE(store->remember_account("alice", "@alice:x"));
      CHECK(journal_rows(*other, *run) == 1);
      CHECK(other->managed_accounts().value().size() == 1);
      REQUIRE(store->set_account_suspended("alice", true));
      CHECK(other->suspended_accounts().value() == std::set<std::string>{"alice"});
      REQUIRE(store->record_tombstone({"community/a", "!a:x", 1000, 9000}));
      CHECK(other->tombstones().value().size() == 1);
      CHECK(other->archive_records().value().empty());
    }
    SECTION("turning grouping off") {
      REQUIRE(store->set_group_commit(std::nullopt));
      CHECK(journal_rows(*other, *run) == 1);
      // From now on every write commits on its own.
      REQUIRE(store->record(entry(*run, "b")));
      CHECK(journal_rows(*other, *run) == 2);
    }
    SECTION("releasing the lock, before the lock goes") {
      auto lock = store->lock("apply");
      REQUIRE(lock);
      REQUIRE(store->record(entry(*run, "b")));
      REQUIRE(journal_rows(*other, *run) == 1);
      lock->reset();
      CHECK(journal_rows(*other, *run) == 2);
      {
        // Released, not left behind for a takeover.
        auto taken = other->lock("apply");
        REQUIRE(taken);
        CHECK((*taken)->took_over().empty());
      }
      // The store groups again after the lock committed its group.
      REQUIRE(store->record(entry(*run, "c")));
      CHECK(journal_rows(*other, *run) == 2);
      REQUIRE(store->flush());
      CHECK(journal_rows(*other, *run) == 3);
    }
    SECTION("closing the store") {
      store.reset();
      CHECK(journal_rows(*other, *run) == 1);
      CHECK(other->messages_sent().value().size() == 1);
    }
  });
}

TEST_CASE("store contract: a failed write leaves the rest of its group to commit", "[store][group]") {
  testing_support::for_each_store_engine([](StoreUnderTest& under_test) {
    auto store = under_test.open();
    auto other = under_test.open();
    auto run = store->begin_run("apply");
    REQUIRE(run);
    REQUIRE(store->set_group_commit(by_count(1000)));
    REQUIRE(store->record(entry(*run, "a")));
    auto orphan = store->record(entry(9999, "b"));
    REQUIRE_FALSE(orphan);
    CHECK(orphan.error().kind == model::Error::Kind::not_found);
    CHECK(orphan.error().message == "cannot record journal entry for run 9999 (b): no such run");
    REQUIRE(store->set_room_id("community/a", "!a:x"));
    auto conflict = store->set_room_id("community/b", "!a:x");
    REQUIRE_FALSE(conflict);
    CHECK(conflict.error().kind == model::Error::Kind::conflict);
    REQUIRE(store->record(entry(*run, "c")));
    REQUIRE(store->flush());
    CHECK(journal_rows(*other, *run) == 2);
    CHECK(other->room_ids().value() == std::map<std::string, std::string>{{"community/a", "!a:x"}});
  });
}

TEST_CASE("store contract: a multi-statement write that fails inside a group is undone alone", "[store][group]") {
  testing_support::for_each_store_engine([](StoreUnderTest& under_test) {
    auto store = under_test.open();
    auto run = store->begin_run("apply");
    REQUIRE(run);
    REQUIRE(store->remember_account("alice", "@alice:x"));
    // Refuses the second of remember_account's statements, after its first
    // (moving @alice:x away from "alice") has run.
    under_test.execute(under_test.is_sqlite()
                           ? "CREATE TRIGGER refuse BEFORE INSERT ON accounts WHEN new.key = 'alicia' "
                             "BEGIN SELECT RAISE(ABORT, 'refused'); END"
                           : "CREATE FUNCTION mxctl.refuse() RETURNS trigger LANGUAGE plpgsql AS "
                             "$$ BEGIN RAISE EXCEPTION 'refused'; END $$; "
                             "CREATE TRIGGER refuse BEFORE INSERT ON mxctl.accounts FOR EACH ROW "
                             "WHEN (new.key = 'alicia') EXECUTE FUNCTION mxctl.refuse()");
    REQUIRE(store->set_group_commit(by_count(1000)));
    REQUIRE(store->record(entry(*run, "a")));
    auto renamed = store->remember_account("alicia", "@alice:x");
    REQUIRE_FALSE(renamed);
    CHECK(renamed.error().message == "cannot record managed account alicia: refused");
    REQUIRE(store->flush());
    auto other = under_test.open();
    CHECK(journal_rows(*other, *run) == 1);
    CHECK(store->managed_accounts() == std::map<std::string, std::string>{{"alice", "@alice:x"}});
    CHECK(other->managed_accounts() == std::map<std::string, std::string>{{"alice", "@alice:x"}});
  });
}

TEST_CASE("store contract: a process killed with SIGKILL loses only its pending group", "[store][group]") {
  testing_support::for_each_store_engine([](StoreUnderTest& under_test) {
    under_test.open().reset();
    // The child opens its own connection: neither engine's may cross fork().
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      auto store = under_test.try_open();
      if (!store) {
        _exit(1);
      }
      auto run = (*store)->begin_run("apply");
      auto held = (*store)->lock("apply");
      if (!run || !held || !(*store)->set_group_commit(by_count(1000))) {
        _exit(1);
      }
      for (const char* name : {"a", "b", "c"}) {
        if (!(*store)->record(entry(*run, name))) {
          _exit(1);
        }
      }
      if (!(*store)->flush() || !(*store)->record(entry(*run, "d")) ||
          !(*store)->set_room_id("community/d", "!d:x")) {
        _exit(1);
      }
      // Die with a group open, running no destructor, as a crash would.
      raise(SIGKILL);
      _exit(2);
    }
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    REQUIRE(WIFSIGNALED(status));
    REQUIRE(WTERMSIG(status) == SIGKILL);

    auto store = under_test.open();
    auto runs = store->runs(-1);
    REQUIRE(runs);
    REQUIRE(runs->size() == 1);
    CHECK(journal_rows(*store, runs->front().id) == 3);
    CHECK(store->room_ids().value().empty());
    // The dead process's lock went with it: the next pass takes over (once
    // the engine has noticed the death).
    std::unique_ptr<adapters::StoreLock> taken;
    CHECK(testing_support::eventually(
        [&] {
          auto attempt = store->lock("apply");
          if (attempt) {
            taken = std::move(*attempt);
          }
          return taken != nullptr;
        },
        std::chrono::seconds(10)));
    REQUIRE(taken);
    CHECK_FALSE(taken->took_over().empty());
    // The dead pass's run ended without saying so.
    CHECK(store->runs(-1).value().front().outcome == "interrupted");
    REQUIRE(store->set_room_id("community/d", "!d:x"));
    CHECK(store->room_ids().value().size() == 1);
  });
}

}  // namespace store_group_commit_contract_test
