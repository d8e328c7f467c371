// The lifecycle role of the state store, against every engine: archive
// times, tombstones (which forget the rest of the room in the same go),
// managed and suspended accounts, and protection.

#include <catch2/catch.hpp>

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "adapters/lifecycle_store.h"
#include "adapters/state_store.h"
#include "tests/adapters/store_under_test.h"

namespace store_lifecycle_contract_test {

using testing_support::StoreUnderTest;

TEST_CASE("store contract: lifecycle records: archives, tombstones, accounts, protection", "[store]") {
  testing_support::for_each_store_engine([](StoreUnderTest& under_test) {
    auto store = under_test.open();
    CHECK(store->archive_records().value().empty());
    CHECK(store->tombstones().value().empty());
    CHECK(store->managed_accounts().value().empty());
    CHECK(store->suspended_accounts().value().empty());
    CHECK(store->protected_addresses().value().empty());
    REQUIRE(store->set_room_id("community/a", "!a:x"));
    REQUIRE(store->mark_message_sent("community/a"));
    REQUIRE(store->mark_direct_set("community/a", "@u:x"));
    REQUIRE(store->save_observation("s1", {{"!a:x", std::string("[1]")}, {"!b:x", std::string("[2]")}}));
    REQUIRE(store->record_archive("community/a", "!a:x", 1000));
    REQUIRE(store->record_archive("community/a", "!a:x", 2000));  // the first archive time counts
    REQUIRE(store->record_archive("community/b", "!b:x", 3000));
    REQUIRE(store->remember_account("alice", "@alice:x"));
    REQUIRE(store->remember_account("bob", "@bob:x"));
    REQUIRE(store->set_account_suspended("bob", true));
    REQUIRE(store->set_protected("room.community/a", true));
    REQUIRE(store->set_protected("account.bob", true));
    REQUIRE(store->set_protected("account.bob", false));
    under_test.reopen(store);
    CHECK(store->archive_records() ==
          std::map<std::string, std::int64_t>{{"community/a", 1000}, {"community/b", 3000}});
    CHECK(store->managed_accounts() == std::map<std::string, std::string>{{"alice", "@alice:x"}, {"bob", "@bob:x"}});
    CHECK(store->suspended_accounts() == std::set<std::string>{"bob"});
    CHECK(store->protected_addresses() == std::set<std::string>{"room.community/a"});
    REQUIRE(store->clear_archive("community/b"));
    CHECK(store->archive_records()->count("community/b") == 0);

    // A tombstone forgets everything else about the room, in one go.
    REQUIRE(store->record_tombstone({"community/a", "!a:x", 1000, 9000}));
    auto tombstones = store->tombstones();
    REQUIRE(tombstones);
    REQUIRE(tombstones->size() == 1);
    CHECK(tombstones->at(0).key == "community/a");
    CHECK(tombstones->at(0).room_id == "!a:x");
    CHECK(tombstones->at(0).archived_at == 1000);
    CHECK(tombstones->at(0).deleted_at == 9000);
    CHECK(store->room_ids()->count("community/a") == 0);
    CHECK(store->archive_records()->empty());
    CHECK(store->messages_sent()->count("community/a") == 0);
    CHECK(store->directs_set()->empty());
    CHECK(store->room_snapshots() == std::map<std::string, std::string>{{"!b:x", "[2]"}});

    // A renamed user keeps the MXID under the new key.
    REQUIRE(store->remember_account("alicia", "@alice:x"));
    CHECK(store->managed_accounts() == std::map<std::string, std::string>{{"alicia", "@alice:x"}, {"bob", "@bob:x"}});
    // Reactivation is recorded too.
    REQUIRE(store->set_account_suspended("bob", false));
    CHECK(store->suspended_accounts().value().empty());

    // Tombstones are kept oldest first, and survive reopening.
    REQUIRE(store->record_tombstone({"community/b", "!b:x", 3000, 9500}));
    under_test.reopen(store);
    tombstones = store->tombstones();
    REQUIRE(tombstones);
    REQUIRE(tombstones->size() == 2);
    CHECK(tombstones->at(0).key == "community/a");
    CHECK(tombstones->at(1).key == "community/b");
    CHECK(tombstones->at(1).deleted_at == 9500);
    CHECK(store->room_snapshots().value().empty());
  });
}

}  // namespace store_lifecycle_contract_test
