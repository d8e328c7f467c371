// The observation cache role of the state store, against every engine:
// room ids, sent messages, m.direct records, the sync token and snapshots,
// the rooms written, what a plan saves unless a pass holds the lock, and
// the probe and room reads kept for the next pass.

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "adapters/observation_cache.h"
#include "adapters/state_store.h"
#include "tests/adapters/store_under_test.h"

namespace store_observation_contract_test {

using testing_support::StoreUnderTest;
using Kind = model::Error::Kind;
using Rooms = std::set<std::string>;
using Directs = std::set<std::pair<std::string, std::string>>;

TEST_CASE("store contract: rooms, messages and the sync token round-trip and survive reopening", "[store]") {
  testing_support::for_each_store_engine([](StoreUnderTest& under_test) {
    auto store = under_test.open();
    CHECK(store->created());
    CHECK_FALSE(store->read_only());
    CHECK(store->room_ids().value().empty());
    CHECK(store->messages_sent().value().empty());
    CHECK(store->sync_token().value() == "");
    REQUIRE(store->set_room_id("community/riverside", "!a:example.org"));
    REQUIRE(store->set_room_id("community/ops", "!b:example.org"));
    REQUIRE(store->set_room_id("community/gone", "!c:example.org"));
    REQUIRE(store->set_room_id("community/ops", "!d:example.org"));
    REQUIRE(store->forget_room("community/gone"));
    REQUIRE(store->forget_room("community/never-known"));
    REQUIRE(store->mark_message_sent("community/riverside"));
    REQUIRE(store->mark_message_sent("community/riverside"));
    REQUIRE(store->set_sync_token("s72594_4483_1934"));
    under_test.reopen(store);
    CHECK_FALSE(store->created());
    CHECK(store->room_ids().value() == std::map<std::string, std::string>{{"community/ops", "!d:example.org"},
                                                                           {"community/riverside", "!a:example.org"}});
    CHECK(store->messages_sent().value() == std::set<std::string>{"community/riverside"});
    CHECK(store->sync_token().value() == "s72594_4483_1934");
    SECTION("forgetting a room forgets its once-message too") {
      REQUIRE(store->forget_room("community/riverside"));
      CHECK(store->room_ids().value() == std::map<std::string, std::string>{{"community/ops", "!d:example.org"}});
      CHECK(store->messages_sent().value().empty());
    }
    SECTION("a room id recorded for another key is a conflict naming the key") {
      auto set = store->set_room_id("community/other", "!a:example.org");
      REQUIRE_FALSE(set.has_value());
      CHECK(set.error().kind == Kind::conflict);
      CHECK_THAT(set.error().message, Catch::StartsWith("cannot record room id for community/other: "));
      if (under_test.is_sqlite()) {
        CHECK(set.error().message ==
              "cannot record room id for community/other: UNIQUE constraint failed: rooms.room_id");
      }
      // Nothing of the refused write stays.
      CHECK(store->room_ids().value().at("community/riverside") == "!a:example.org");
      CHECK(store->room_ids().value().count("community/other") == 0);
    }
  });
}

TEST_CASE("store contract: m.direct records survive reopening and go with a forgotten room", "[store]") {
  testing_support::for_each_store_engine([](StoreUnderTest& under_test) {
    auto store = under_test.open();
    REQUIRE(store->mark_direct_set("dm/a", "@u:x"));
    REQUIRE(store->mark_direct_set("dm/a", "@u:x"));  // a repeat is harmless
    REQUIRE(store->mark_direct_set("dm/b", "@v:x"));
    REQUIRE(store->mark_direct_set("dm/c", "@w:x"));
    under_test.reopen(store);
    CHECK(store->directs_set() == Directs{{"dm/a", "@u:x"}, {"dm/b", "@v:x"}, {"dm/c", "@w:x"}});
    REQUIRE(store->forget_room("dm/a"));
    CHECK(store->directs_set() == Directs{{"dm/b", "@v:x"}, {"dm/c", "@w:x"}});
    // A room replaced by an upgrade forgets its records alone.
    REQUIRE(store->forget_directs("dm/c"));
    REQUIRE(store->forget_directs("dm/never-known"));
    CHECK(store->directs_set() == Directs{{"dm/b", "@v:x"}});
  });
}

TEST_CASE("store contract: an observation saves its token and changed snapshots together", "[store]") {
  testing_support::for_each_store_engine([](StoreUnderTest& under_test) {
    auto store = under_test.open();
    REQUIRE(store->save_observation("s1", {{"!a:x", std::string("[1]")}, {"!b:x", std::string("[2]")}}));
    REQUIRE(store->save_observation("s2", {{"!a:x", std::string("[3]")}, {"!b:x", std::nullopt}}));
    under_test.reopen(store);
    CHECK(store->sync_token() == std::string("s2"));
    auto snapshots = store->room_snapshots();
    REQUIRE(snapshots);
    CHECK(*snapshots == std::map<std::string, std::string>{{"!a:x", "[3]"}});
    CHECK(store->room_snapshot_digests() ==
          std::map<std::string, std::string>{{"!a:x", adapters::snapshot_digest("[3]")}});
    auto text = store->room_snapshot("!a:x");
    REQUIRE(text);
    CHECK(*text == std::optional<std::string>("[3]"));
    auto none = store->room_snapshot("!b:x");
    REQUIRE(none);
    CHECK_FALSE(none->has_value());
  });
}

TEST_CASE("store contract: rooms written are kept until cleared, and survive reopening", "[store]") {
  testing_support::for_each_store_engine([](StoreUnderTest& under_test) {
    auto store = under_test.open();
    CHECK(store->rooms_written() == Rooms{});
    const std::int64_t serial = *store->serial();
    REQUIRE(store->mark_room_written("!a:x"));
    REQUIRE(store->mark_room_written("!b:x"));
    REQUIRE(store->mark_room_written("!a:x"));
    CHECK(store->rooms_written() == Rooms{"!a:x", "!b:x"});
    // A hint for observation, like the snapshots: no change a saved plan must notice.
    CHECK(*store->serial() == serial);
    under_test.reopen(store);
    CHECK(store->rooms_written() == Rooms{"!a:x", "!b:x"});

    SECTION("clearing forgets exactly the rooms given") {
      REQUIRE(store->clear_rooms_written({"!a:x", "!unknown:x"}));
      CHECK(store->rooms_written() == Rooms{"!b:x"});
      REQUIRE(store->clear_rooms_written({}));
      CHECK(store->rooms_written() == Rooms{"!b:x"});
    }
    SECTION("a room written again after it was cleared is recorded again") {
      REQUIRE(store->clear_rooms_written({"!a:x", "!b:x"}));
      REQUIRE(store->mark_room_written("!a:x"));
      CHECK(store->rooms_written() == Rooms{"!a:x"});
    }
  });
}

TEST_CASE("store contract: a room written is a grouped write, committed with the group", "[store][group]") {
  testing_support::for_each_store_engine([](StoreUnderTest& under_test) {
    auto store = under_test.open();
    auto other = under_test.open();
    REQUIRE(store->set_group_commit(adapters::GroupCommit{1000, std::chrono::hours(1)}));
    REQUIRE(store->mark_room_written("!a:x"));
    CHECK(store->rooms_written() == Rooms{"!a:x"});
    CHECK(other->rooms_written() == Rooms{});
    REQUIRE(store->flush());
    CHECK(other->rooms_written() == Rooms{"!a:x"});
    // Clearing commits what is pending first, then clears in its own transaction.
    REQUIRE(store->mark_room_written("!b:x"));
    REQUIRE(store->clear_rooms_written({"!a:x"}));
    CHECK(other->rooms_written() == Rooms{"!b:x"});
    REQUIRE(store->set_group_commit(std::nullopt));
  });
}

TEST_CASE("store contract: a plan's cache is saved whole while nobody holds the lock, and not at all while one does",
          "[store]") {
  adapters::CacheUpdate update;
  update.room_ids = {{"community/a", "!a:x"}, {"community/b", "!b:x"}};
  update.sync_token = "s2";
  update.changed_snapshots = {{"!a:x", std::string("[1]")}, {"!gone:x", std::nullopt}};
  update.rooms_reread = {"!a:x", "!unknown:x"};
  update.messages_sent = {"community/a"};
  update.directs_set = {{"community/b", "@u:x"}};
  testing_support::for_each_store_engine([&update](StoreUnderTest& under_test) {
    auto store = under_test.open();
    auto holder = under_test.open();
    REQUIRE(store->save_observation("s1", {{"!gone:x", std::string("[0]")}}));
    REQUIRE(store->mark_room_written("!a:x"));
    REQUIRE(store->mark_room_written("!b:x"));
    // What a save would change, to show it did not.
    auto unchanged = [&store] {
      CHECK(store->room_ids().value().empty());
      CHECK(store->sync_token().value() == "s1");
      CHECK(store->room_snapshots().value() == std::map<std::string, std::string>{{"!gone:x", "[0]"}});
      CHECK(store->rooms_written().value() == Rooms{"!a:x", "!b:x"});
      CHECK(store->messages_sent().value().empty());
      CHECK(store->directs_set().value().empty());
    };

    SECTION("another store holds the lock") {
      auto held = holder->lock("apply");
      REQUIRE(held);
      CHECK(store->save_cache_unless_locked(update).value() == false);
      unchanged();
      held->reset();
      CHECK(store->save_cache_unless_locked(update).value() == true);
    }
    SECTION("the saving store holds it itself") {
      auto held = store->lock("apply");
      REQUIRE(held);
      CHECK(store->save_cache_unless_locked(update).value() == false);
      unchanged();
      held->reset();
      CHECK(store->save_cache_unless_locked(update).value() == true);
    }
    SECTION("nobody holds it") {
      CHECK(store->save_cache_unless_locked(update).value() == true);
    }
    // Saved, as another connection sees it.
    CHECK(holder->room_ids().value() ==
          std::map<std::string, std::string>{{"community/a", "!a:x"}, {"community/b", "!b:x"}});
    CHECK(holder->sync_token().value() == "s2");
    CHECK(holder->room_snapshots().value() == std::map<std::string, std::string>{{"!a:x", "[1]"}});
    CHECK(holder->rooms_written().value() == Rooms{"!b:x"});
    CHECK(holder->messages_sent().value() == std::set<std::string>{"community/a"});
    CHECK(holder->directs_set().value() == Directs{{"community/b", "@u:x"}});
  });
}

TEST_CASE("store contract: a plan's cache saved with grouped writes pending commits them first", "[store][group]") {
  testing_support::for_each_store_engine([](StoreUnderTest& under_test) {
    auto store = under_test.open();
    auto other = under_test.open();
    REQUIRE(store->set_group_commit(adapters::GroupCommit{1000, std::chrono::hours(1)}));
    REQUIRE(store->mark_message_sent("community/pending"));
    adapters::CacheUpdate update;
    update.sync_token = "s1";
    update.messages_sent = {"community/saved"};
    CHECK(store->save_cache_unless_locked(update).value() == true);
    CHECK(other->messages_sent().value() == std::set<std::string>{"community/pending", "community/saved"});
    CHECK(other->sync_token().value() == "s1");
  });
}

TEST_CASE("store contract: texts of any shape and observations of any size come back as they went", "[store]") {
  // What a text[] literal or a parameter could mangle: quoting, escapes,
  // array punctuation, the word NULL, the empty text, blanks, non-ASCII.
  const std::vector<std::string> texts = {"", "NULL", "a\"b", "a\\b", "{a,b}", " spaced ", "x'y", "$1", "été ключ",
                                          "tab\there"};
  adapters::CacheUpdate update;
  std::map<std::string, std::string> room_ids;
  std::map<std::string, std::string> snapshots;
  Directs directs;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const std::string room_id = "!" + texts[i] + ":" + std::to_string(i);
    room_ids[texts[i]] = room_id;
    snapshots[room_id] = "[" + texts[i] + "]";
    directs.emplace(texts[i], "@" + texts[i] + ":x");
  }
  update.room_ids = room_ids;
  update.sync_token = texts[2] + texts[3];
  for (const auto& [room_id, state] : snapshots) {
    update.changed_snapshots[room_id] = state;
  }
  update.messages_sent = std::set<std::string>(texts.begin(), texts.end());
  update.directs_set = directs;
  // Large enough that an engine sending them in bounded batches needs more than one.
  std::map<std::string, std::optional<std::string>> large;
  for (int i = 0; i < 5; ++i) {
    large["!large" + std::to_string(i) + ":x"] = std::string(1024 * 1024, static_cast<char>('a' + i));
  }
  testing_support::for_each_store_engine([&](StoreUnderTest& under_test) {
    auto store = under_test.open();
    for (const auto& [key, room_id] : room_ids) {
      REQUIRE(store->mark_room_written(room_id));
    }
    update.rooms_reread.clear();
    for (const auto& [key, room_id] : room_ids) {
      if (key.size() % 2 == 0) {
        update.rooms_reread.insert(room_id);
      }
    }
    REQUIRE(store->save_cache_unless_locked(update).value());
    under_test.reopen(store);
    CHECK(store->room_ids().value() == room_ids);
    CHECK(store->room_snapshots().value() == snapshots);
    CHECK(store->sync_token().value() == update.sync_token);
    CHECK(store->messages_sent().value() == update.messages_sent);
    CHECK(store->directs_set().value() == directs);
    Rooms left;
    for (const auto& [key, room_id] : room_ids) {
      if (key.size() % 2 != 0) {
        left.insert(room_id);
      }
    }
    CHECK(store->rooms_written().value() == left);
    REQUIRE(store->clear_rooms_written(left));
    CHECK(store->rooms_written().value().empty());

    // A first observation holds every room's snapshot at once; the next
    // drops some and changes others in one go.
    REQUIRE(store->save_observation("s1", large));
    auto changed = large;
    changed["!large0:x"] = std::nullopt;
    changed["!large1:x"] = std::string(2 * 1024 * 1024, 'z');
    REQUIRE(store->save_observation("s2", changed));
    under_test.reopen(store);
    auto kept = store->room_snapshot_digests();
    REQUIRE(kept);
    CHECK(kept->count("!large0:x") == 0);
    for (int i = 1; i < 5; ++i) {
      const std::string room_id = "!large" + std::to_string(i) + ":x";
      REQUIRE(kept->count(room_id) == 1);
      CHECK(kept->at(room_id) == adapters::snapshot_digest(*changed.at(room_id)));
      CHECK(store->room_snapshot(room_id).value() == changed.at(room_id));
    }
    CHECK(store->sync_token().value() == "s2");
  });
}

TEST_CASE("store contract: the store keeps the last probe across reopening", "[store][probe]") {
  testing_support::for_each_store_engine([](StoreUnderTest& under_test) {
    auto store = under_test.open();
    auto none = store->kept_probe();
    REQUIRE(none);
    CHECK_FALSE(*none);
    REQUIRE(store->keep_probe({"key one", "{\"a\":1}", 1000}));
    REQUIRE(store->keep_probe({"key two", "{\"b\":2}", 2000}));
    under_test.reopen(store);
    auto kept = store->kept_probe();
    REQUIRE(kept);
    REQUIRE(*kept);
    CHECK((*kept)->key == "key two");
    CHECK((*kept)->answer == "{\"b\":2}");
    CHECK((*kept)->taken_at_ms == 2000);
  });
}

TEST_CASE("store contract: room reads are kept by room, and forgotten with their room's snapshot",
          "[store][room_reads]") {
  testing_support::for_each_store_engine([](StoreUnderTest& under_test) {
    using Reads = std::map<std::string, adapters::KeptRoomRead>;
    auto store = under_test.open();
    CHECK(store->room_reads().value().empty());
    REQUIRE(store->save_observation("s1", {{"!a:x", std::string("[]")}, {"!b:x", std::string("[]")}}));
    // Reads are bytes: a NUL must come back as it went.
    REQUIRE(store->keep_room_reads({{"!a:x", {"d1", std::string("\0read a", 7)}}, {"!b:x", {"d2", "read b"}}}));
    CHECK(store->room_reads() == Reads{{"!a:x", {"d1", std::string("\0read a", 7)}}, {"!b:x", {"d2", "read b"}}});
    under_test.reopen(store);
    CHECK(store->room_reads() == Reads{{"!a:x", {"d1", std::string("\0read a", 7)}}, {"!b:x", {"d2", "read b"}}});
    // !b:x is left; a later keep replaces !a:x's read and drops !b:x's.
    REQUIRE(store->save_observation("s2", {{"!b:x", std::nullopt}}));
    REQUIRE(store->keep_room_reads({{"!a:x", {"d3", "read a again"}}}));
    CHECK(store->room_reads() == Reads{{"!a:x", {"d3", "read a again"}}});
  });
}

}  // namespace store_observation_contract_test
