// Rooms as a pass read them from their snapshots, kept for the next pass:
// the encoding gives every field back and refuses damage, the digest moves
// with the basis (build, settings) and the snapshot. That the store keeps
// reads only of rooms that have a snapshot, on both engines, is
// store_observation_contract_test.cc.

#include <catch2/catch.hpp>

#include <map>
#include <optional>
#include <string>

#include "adapters/homeserver/sync_state.h"

namespace kept_room_reads_test {

namespace {

adapters::BotRoom sample_room() {
  adapters::BotRoom room;
  room.observed.room_id = "!a:example.org";
  room.observed.marker_key = "community/riverside";
  room.observed.room.name = "Riverside";
  room.observed.room.members = {"@alice:example.org"};
  room.observed.members["@alice:example.org"] = {model::Membership::invite, false};
  room.creators = {"@alice:example.org", "@mxctl:example.org"};
  return room;
}

}  // namespace

TEST_CASE("kept room reads: a room comes back equal, and damage reads as nothing", "[room_reads]") {
  const std::string bytes = adapters::encode_bot_room(sample_room());
  auto decoded = adapters::decode_bot_room(bytes);
  REQUIRE(decoded);
  CHECK(decoded->observed == sample_room().observed);
  CHECK(decoded->creators == sample_room().creators);
  for (std::size_t size = 0; size < bytes.size(); ++size) {
    INFO("truncated to " << size);
    CHECK_FALSE(adapters::decode_bot_room(bytes.substr(0, size)));
  }
  CHECK_FALSE(adapters::decode_bot_room(bytes + 'x'));
}

TEST_CASE("kept room reads: the digest moves with the basis and with the snapshot's digest", "[room_reads]") {
  const std::string name = adapters::snapshot_digest("[{\"type\":\"m.room.name\"}]");
  const std::string topic = adapters::snapshot_digest("[{\"type\":\"m.room.topic\"}]");
  CHECK(name != topic);
  const std::string digest = adapters::room_read_digest("build settings", name);
  CHECK(digest == adapters::room_read_digest("build settings", name));
  CHECK(digest != adapters::room_read_digest("build settings2", name));
  CHECK(digest != adapters::room_read_digest("build settings", topic));
  // The basis is framed: moving bytes between it and the snapshot is another digest.
  CHECK(adapters::room_read_digest("ab", "c") != adapters::room_read_digest("a", "bc"));
}

}  // namespace kept_room_reads_test
