// The pass lock role of the state store, against every engine: the serial a
// saved plan checks, and the lock's basic contract (one holder at a time,
// released when its StoreLock goes). How each engine tells a dead holder
// from a live one is its own (sqlite_store_lock_test.cc,
// postgres_state_store_test.cc).

#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdint>
#include <string>

#include "adapters/pass_lock.h"
#include "adapters/state_store.h"
#include "tests/adapters/store_under_test.h"

namespace store_pass_lock_contract_test {

using adapters::JournalEntry;
using testing_support::StoreUnderTest;
using Kind = model::Error::Kind;

namespace {

std::int64_t serial_of(adapters::StateStore& store) {
  auto serial = store.serial();
  INFO((serial ? std::string() : serial.error().message));
  REQUIRE(serial.has_value());
  return *serial;
}

std::string this_host() {
  char buffer[256] = {};
  REQUIRE(gethostname(buffer, sizeof buffer - 1) == 0);
  return buffer;
}

}  // namespace

TEST_CASE("store contract: the serial moves on content changes only", "[store]") {
  testing_support::for_each_store_engine([](StoreUnderTest& under_test) {
    auto store = under_test.open();
    std::int64_t last = serial_of(*store);
    CHECK(last == 0);
    auto moved = [&] {
      std::int64_t now = serial_of(*store);
      bool increased = now > last;
      last = now;
      return increased;
    };
    REQUIRE(store->set_room_id("a", "!a:x"));
    CHECK(moved());
    REQUIRE(store->set_room_id("a", "!a2:x"));
    CHECK(moved());
    REQUIRE(store->mark_message_sent("a"));
    CHECK(moved());
    REQUIRE(store->set_sync_token("t1"));
    CHECK(moved());
    REQUIRE(store->forget_room("a"));
    CHECK(moved());
    REQUIRE(store->remember_account("alice", "@alice:x"));
    CHECK(moved());
    REQUIRE(store->save_observation("t2", {}));
    CHECK(moved());

    // Writes that change nothing, reads, runs and the journal leave it alone.
    REQUIRE(store->set_room_id("b", "!b:x"));
    REQUIRE(store->mark_message_sent("b"));
    CHECK(moved());
    REQUIRE(store->set_room_id("b", "!b:x"));
    REQUIRE(store->mark_message_sent("b"));
    REQUIRE(store->set_sync_token("t2"));
    REQUIRE(store->forget_room("nobody"));
    REQUIRE(store->remember_account("alice", "@alice:x"));
    REQUIRE(store->mark_room_written("!b:x"));
    REQUIRE(store->keep_probe({"key", "{}", 1000}));
    REQUIRE(store->room_ids());
    auto run = store->begin_run("apply");
    REQUIRE(run);
    REQUIRE(store->record(JournalEntry{*run, "create room b", "ok", "", "", 1, {}}));
    REQUIRE(store->finish_run(*run, "succeeded", 1, 0));
    CHECK_FALSE(moved());
    {
      auto held = store->lock("apply");
      REQUIRE(held);
    }
    CHECK_FALSE(moved());

    under_test.reopen(store);
    CHECK(serial_of(*store) == last);
  });
}

TEST_CASE("store contract: the pass lock has one holder at a time, until its StoreLock goes", "[store][lock]") {
  testing_support::for_each_store_engine([](StoreUnderTest& under_test) {
    auto first = under_test.open();
    auto second = under_test.open();

    SECTION("a live holder is a conflict naming it, until it lets go") {
      auto held = first->lock("apply");
      REQUIRE(held);
      CHECK((*held)->took_over().empty());
      CHECK_FALSE((*held)->lost());
      CHECK((*held)->still_held());
      auto refused = second->lock("reconcile");
      REQUIRE_FALSE(refused);
      CHECK(refused.error().kind == Kind::conflict);
      CHECK_THAT(refused.error().message, Catch::StartsWith("another mxctl pass (apply, pid " +
                                                            std::to_string(getpid()) + " on " + this_host() +
                                                            ", lock "));
      held->reset();
      auto taken = second->lock("reconcile");
      REQUIRE(taken);
      CHECK((*taken)->took_over().empty());
      CHECK_FALSE(first->lock("apply"));
    }
    SECTION("the holder's own store may not take it twice") {
      auto held = first->lock("apply");
      REQUIRE(held);
      auto twice = first->lock("apply");
      REQUIRE_FALSE(twice);
      CHECK(twice.error().kind == Kind::conflict);
      held->reset();
      CHECK(first->lock("apply"));
    }
    SECTION("unlock removes nothing it was not asked to") {
      auto none = second->unlock("0123456789abcdef");
      REQUIRE_FALSE(none);
      CHECK(none.error().kind == Kind::not_found);
      auto held = first->lock("apply");
      REQUIRE(held);
      auto other = second->unlock("0123456789abcdef");
      REQUIRE_FALSE(other);
      CHECK(other.error().kind == Kind::conflict);
      CHECK_FALSE(second->lock("apply"));
    }
    SECTION("the lock outlives the store that took it") {
      auto held = first->lock("apply");
      REQUIRE(held);
      first.reset();
      CHECK_FALSE(second->lock("apply"));
      held->reset();
      CHECK(second->lock("apply"));
    }
  });
}

}  // namespace store_pass_lock_contract_test
