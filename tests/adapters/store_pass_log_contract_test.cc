// The pass log role of the state store, against every engine: runs and
// their journals, the room creations the journal records, and the audit
// log.

#include <catch2/catch.hpp>

#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "adapters/pass_log.h"
#include "adapters/state_store.h"
#include "tests/adapters/store_under_test.h"

namespace store_pass_log_contract_test {

using adapters::AuditEntry;
using adapters::JournalEntry;
using testing_support::StoreUnderTest;
using Kind = model::Error::Kind;
using std::chrono::milliseconds;

TEST_CASE("store contract: runs and their journals", "[store]") {
  testing_support::for_each_store_engine([](StoreUnderTest& under_test) {
    auto store = under_test.open();
    auto before = std::chrono::floor<milliseconds>(std::chrono::system_clock::now());
    auto first = store->begin_run("apply");
    auto second = store->begin_run("reconcile");
    REQUIRE(first);
    REQUIRE(second);
    CHECK(*second > *first);

    const auto at = std::chrono::floor<milliseconds>(std::chrono::system_clock::now()) - std::chrono::hours(30);
    std::vector<JournalEntry> written = {
        {*first, "create room community/riverside", "failed", "M_LIMIT_EXCEEDED", "too many requests", 1, at},
        {*second, "update room community/ops", "ok", "", "", 1, at},
        {*first, "create room community/riverside", "ok", "", "", 2, at + milliseconds(1500)},
        {*first, "invite @alice:example.org to community/riverside", "skipped", "", "depends on a failed change", 1,
         at + milliseconds(1501)},
    };
    for (const auto& entry : written) {
      REQUIRE(store->record(entry));
    }
    REQUIRE(store->finish_run(*first, "failed", 1, 1));
    auto after = std::chrono::system_clock::now();
    // The record is the store's, not the connection's.
    under_test.reopen(store);

    auto journal = store->journal(*first);
    REQUIRE(journal);
    REQUIRE(journal->size() == 3);
    for (size_t i = 0; i < 3; ++i) {
      const JournalEntry& want = written[i == 0 ? 0 : i + 1];
      const JournalEntry& got = (*journal)[i];
      CHECK(got.run_id == want.run_id);
      CHECK(got.operation == want.operation);
      CHECK(got.result == want.result);
      CHECK(got.errcode == want.errcode);
      CHECK(got.message == want.message);
      CHECK(got.attempt == want.attempt);
      CHECK(got.at == want.at);
    }
    CHECK(store->journal(*second).value().size() == 1);
    CHECK(store->journal(9999).value().empty());

    auto runs = store->runs(10);
    REQUIRE(runs);
    REQUIRE(runs->size() == 2);
    const auto& newest = (*runs)[0];
    const auto& oldest = (*runs)[1];
    CHECK(newest.id == *second);
    CHECK(newest.command == "reconcile");
    CHECK(newest.outcome == "running");
    CHECK_FALSE(newest.finished.has_value());
    CHECK(oldest.id == *first);
    CHECK(oldest.command == "apply");
    CHECK(oldest.outcome == "failed");
    CHECK(oldest.changes_applied == 1);
    CHECK(oldest.failures == 1);
    CHECK(oldest.started >= before);
    REQUIRE(oldest.finished.has_value());
    CHECK(*oldest.finished >= oldest.started);
    CHECK(*oldest.finished <= after);
    CHECK(store->runs(1).value().size() == 1);
    CHECK(store->runs(0).value().empty());
    CHECK(store->runs(-1).value().size() == 2);

    SECTION("an unset time is recorded as now") {
      REQUIRE(store->record(JournalEntry{*second, "noop", "ok", "", "", 1, {}}));
      auto got = store->journal(*second).value();
      REQUIRE(got.size() == 2);
      CHECK(got[1].at >= before);
    }
    SECTION("unknown runs are not found") {
      auto finished = store->finish_run(9999, "succeeded", 0, 0);
      REQUIRE_FALSE(finished);
      CHECK(finished.error().kind == Kind::not_found);
      CHECK(finished.error().message == "cannot record end of run 9999: no such run");
      auto recorded = store->record(JournalEntry{9999, "create room x", "ok", "", "", 1, {}});
      REQUIRE_FALSE(recorded);
      CHECK(recorded.error().kind == Kind::not_found);
      CHECK(recorded.error().message == "cannot record journal entry for run 9999 (create room x): no such run");
    }
    SECTION("run ids are never reused") {
      auto third = store->begin_run("apply");
      REQUIRE(third);
      CHECK(*third > *second);
    }
  });
}

TEST_CASE("store contract: room creations are read from every run's journal, whatever their result", "[store]") {
  testing_support::for_each_store_engine([](StoreUnderTest& under_test) {
    using Rooms = std::set<std::string>;
    auto store = under_test.open();
    CHECK(store->journaled_room_creations() == Rooms{});
    auto first = store->begin_run("apply");
    auto second = store->begin_run("apply");
    REQUIRE(first);
    REQUIRE(second);
    REQUIRE(store->record(JournalEntry{*first, "create room community/a", "planned", "", "", 0, {}}));
    REQUIRE(store->record(JournalEntry{*first, "create account alice", "ok", "", "", 1, {}}));
    REQUIRE(store->record(JournalEntry{*first, "set name of community/b", "ok", "", "", 1, {}}));
    REQUIRE(store->record(JournalEntry{*second, "create room council/c", "failed", "M_UNKNOWN", "x", 1, {}}));
    REQUIRE(store->record(JournalEntry{*second, "create room community/a", "ok", "", "", 1, {}}));
    REQUIRE(store->record(JournalEntry{*second, "Create Room shouted", "ok", "", "", 1, {}}));
    CHECK(store->journaled_room_creations() == Rooms{"community/a", "council/c"});
    under_test.reopen(store);
    CHECK(store->journaled_room_creations() == Rooms{"community/a", "council/c"});
  });
}

TEST_CASE("store contract: the audit log keeps entries in order and filters by time and key", "[store]") {
  using std::chrono::system_clock;
  const system_clock::time_point t1 = system_clock::time_point(std::chrono::milliseconds(1'700'000'000'000));
  const system_clock::time_point t2 = t1 + std::chrono::hours(1);
  AuditEntry first;
  first.run_id = 1;
  first.at = t1;
  first.action = "create_room";
  first.key = "community/a";
  first.target = "!a:x";
  first.result = "ok";
  AuditEntry second = first;
  second.at = t2;
  second.action = "set_state m.room.power_levels";
  second.before = "power_levels.users[\"@u:x\"]=10";
  second.after = "power_levels.users[\"@u:x\"]=50";
  AuditEntry third = second;
  third.key = "community/b";
  third.result = "failed";
  third.message = "forbidden: M_FORBIDDEN";
  testing_support::for_each_store_engine([&](StoreUnderTest& under_test) {
    auto store = under_test.open();
    for (const AuditEntry& entry : {first, second, third}) {
      REQUIRE(store->append_audit(entry));
    }
    under_test.reopen(store);
    auto all = store->audit({});
    REQUIRE(all);
    REQUIRE(all->size() == 3);
    CHECK(all->at(0).action == "create_room");
    CHECK(all->at(0).at == t1);
    CHECK(all->at(0).run_id == 1);
    CHECK(all->at(0).key == "community/a");
    CHECK(all->at(0).target == "!a:x");
    CHECK(all->at(0).result == "ok");
    CHECK(all->at(0).id < all->at(1).id);
    CHECK(all->at(1).before == second.before);
    CHECK(all->at(1).after == second.after);
    CHECK(all->at(2).message == "forbidden: M_FORBIDDEN");
    CHECK(all->at(2).result == "failed");
    CHECK(store->audit({t2, ""})->size() == 2);
    CHECK(store->audit({std::nullopt, "community/a"})->size() == 2);
    CHECK(store->audit({t2, "community/a"})->size() == 1);
  });
}

}  // namespace store_pass_log_contract_test
