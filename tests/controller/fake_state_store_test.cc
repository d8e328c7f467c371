// The controller tests' state store: the real SQLite store in memory, with
// injected write failures that leave it unchanged, and a lock that is the
// real one (so save_cache_unless_locked keeps out of a holder's way).

#include <catch2/catch.hpp>

#include "tests/fakes/fake_state_store.h"

namespace fake_state_store_test {

namespace {

TEST_CASE("fake state store: an injected write failure changes nothing", "[fake_store]") {
  fakes::FakeStateStore store;
  REQUIRE(store.set_room_id("ops", "!ops:example.org"));
  const std::int64_t serial = *store.serial();

  store.set_writes_fail(true);
  auto failed = store.set_room_id("ops", "!other:example.org");
  REQUIRE_FALSE(failed);
  CHECK(failed.error().kind == model::Error::Kind::transient);
  CHECK(failed.error().message == "fake store: disk full");
  CHECK_FALSE(store.remember_account("alice", "@alice:example.org"));
  CHECK_FALSE(store.record(adapters::JournalEntry{1, "create room ops", "ok", "", "", 1, {}}));

  CHECK(*store.room_ids() == std::map<std::string, std::string>{{"ops", "!ops:example.org"}});
  CHECK(store.managed_accounts()->empty());
  CHECK(store.all_entries().empty());
  CHECK(*store.serial() == serial);

  store.set_writes_fail(false);
  CHECK(store.set_room_id("ops", "!other:example.org"));
  CHECK(store.room_ids()->at("ops") == "!other:example.org");
}

TEST_CASE("fake state store: journal entries of a run no pass began are kept", "[fake_store]") {
  fakes::FakeStateStore store;
  REQUIRE(store.record(adapters::JournalEntry{3, "create room ops", "planned", "", "", 0, {}}));
  REQUIRE(store.record(adapters::JournalEntry{3, "create room ops", "ok", "", "", 1, {}}));
  CHECK(store.journal(3)->size() == 2);
  CHECK(store.all_entries().size() == 2);
  CHECK(store.journaled_room_creations() == std::set<std::string>{"ops"});
  // A run begun afterwards does not reuse the ids taken for them.
  CHECK(store.begin_run("apply") == std::int64_t{4});
}

TEST_CASE("fake state store: the lock is the real one, released when dropped", "[fake_store]") {
  fakes::FakeStateStore store;
  auto held = store.lock("apply");
  REQUIRE(held);
  CHECK(store.save_cache_unless_locked(adapters::CacheUpdate{}) == false);
  REQUIRE_FALSE(store.lock("reconcile"));
  held->reset();
  CHECK(store.save_cache_unless_locked(adapters::CacheUpdate{}) == true);
  CHECK(store.lock("reconcile"));
}

}  // namespace

}  // namespace fake_state_store_test
