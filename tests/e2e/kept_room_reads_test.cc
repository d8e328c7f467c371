// A pass reads each room from its stored snapshot once: the read is kept
// in the store under a digest of the snapshot's digest (and of mxctl's
// build and settings), and the next pass decodes it instead of fetching and
// parsing the snapshot again; a damaged read is parsed over.

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <map>
#include <string>

#include "adapters/homeserver/sync_state.h"
#include "adapters/state_store.h"
#include "tests/e2e/fixture.h"

namespace kept_room_reads_test {

namespace {

using e2e::Fixture;

std::map<std::string, adapters::KeptRoomRead> kept_reads(const Fixture& fx) {
  auto store = adapters::open_sqlite_store(fx.state());
  REQUIRE(store);
  auto reads = (*store)->room_reads();
  REQUIRE(reads);
  return *reads;
}

void keep(const Fixture& fx, const std::string& room_id, const adapters::KeptRoomRead& read) {
  auto store = adapters::open_sqlite_store(fx.state());
  REQUIRE(store);
  REQUIRE((*store)->keep_room_reads({{room_id, read}}));
}

}  // namespace

TEST_CASE("e2e: each room's read of its snapshot is kept, and the next pass decodes it instead of parsing",
          "[e2e][room_reads]") {
  Fixture fx;
  auto applied = fx.mxctl({"apply", fx.manifests(), "--yes"});
  INFO(applied.out << applied.err);
  REQUIRE(applied.exit_code == 0);
  auto converged = fx.mxctl({"reconcile", fx.manifests()});
  INFO(converged.out << converged.err);
  REQUIRE(converged.exit_code == 0);

  // Every room the bot is in has its read kept beside its snapshot.
  std::map<std::string, adapters::KeptRoomRead> reads = kept_reads(fx);
  {
    auto store = adapters::open_sqlite_store(fx.state());
    REQUIRE(store);
    auto snapshots = (*store)->room_snapshots();
    REQUIRE(snapshots);
    CHECK(reads.size() == snapshots->size());
  }

  // To see that a pass uses the kept read, not the snapshot, one read is
  // swapped for the same room under another name: the plan renames it back.
  std::string room_id;
  adapters::BotRoom room;
  for (const auto& [id, read] : reads) {
    auto decoded = adapters::decode_bot_room(read.read);
    REQUIRE(decoded);
    if (decoded->observed.marker_key == "community/riverside") {
      room_id = id;
      room = *decoded;
    }
  }
  REQUIRE_FALSE(room_id.empty());
  room.observed.room.name = "Name From The Kept Read";
  keep(fx, room_id, {reads[room_id].digest, adapters::encode_bot_room(room)});
  auto plan = fx.mxctl({"plan", fx.manifests()});
  INFO(plan.out << plan.err);
  REQUIRE(plan.exit_code == 0);
  CHECK(plan.out.find("Name From The Kept Read") != std::string::npos);

  SECTION("a damaged read is parsed over, and the plan is empty") {
    keep(fx, room_id, {reads[room_id].digest, "damaged"});
    auto again = fx.mxctl({"plan", fx.manifests()});
    INFO(again.out << again.err);
    REQUIRE(again.exit_code == 0);
    CHECK(again.out.find("No changes") != std::string::npos);
    CHECK(kept_reads(fx)[room_id] == reads[room_id]);
  }
  SECTION("a snapshot that changed is read from its text, not from the read kept for the one before") {
    auto store = adapters::open_sqlite_store(fx.state());
    REQUIRE(store);
    auto token = (*store)->sync_token();
    auto text = (*store)->room_snapshot(room_id);
    REQUIRE(token);
    REQUIRE(text);
    REQUIRE(*text);
    nlohmann::json events = nlohmann::json::parse(**text);
    for (nlohmann::json& event : events) {
      if (event.value("type", "") == "m.room.name") {
        event["content"]["name"] = "Name From The Snapshot";
      }
    }
    REQUIRE((*store)->save_observation(*token, {{room_id, events.dump()}}));
    store->reset();
    auto again = fx.mxctl({"plan", fx.manifests()});
    INFO(again.out << again.err);
    REQUIRE(again.exit_code == 0);
    CHECK(again.out.find("Name From The Snapshot") != std::string::npos);
    CHECK(again.out.find("Name From The Kept Read") == std::string::npos);
  }
  SECTION("a read kept under another snapshot's digest is not used") {
    keep(fx, room_id, {"another digest", adapters::encode_bot_room(room)});
    auto again = fx.mxctl({"plan", fx.manifests()});
    INFO(again.out << again.err);
    REQUIRE(again.exit_code == 0);
    CHECK(again.out.find("No changes") != std::string::npos);
    CHECK(kept_reads(fx)[room_id] == reads[room_id]);
  }
}

}  // namespace kept_room_reads_test
