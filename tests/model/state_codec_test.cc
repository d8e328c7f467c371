// The binary form of the Matrix state the store keeps: every field comes
// back equal, and any damage reads as nothing rather than as another state.

#include "model/state_codec.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <string>

#include "model/byte_codec.h"

namespace state_codec_test {

namespace {

// Every field away from its default, so a field the codec dropped shows.
model::Room full_room() {
  model::Room room;
  room.key = "council/disputes";
  room.alias = "#mxctl.council.disputes:example.org";
  room.kind = model::RoomKind::space;
  room.name = "Disputes — Council";
  room.topic = "line one\nline two";
  room.avatar_url = "mxc://example.org/abc";
  room.join_rule = model::JoinRule::restricted;
  room.allow_spaces = {"community/riverside", "community/hills"};
  room.history_visibility = model::HistoryVisibility::world_readable;
  room.encrypted = true;
  room.power_levels.ban = 51;
  room.power_levels.invite = 25;
  room.power_levels.kick = 52;
  room.power_levels.redact = 53;
  room.power_levels.events_default = -5;
  room.power_levels.state_default = 54;
  room.power_levels.users_default = 1;
  room.power_levels.events = {{"m.room.name", 50}, {"m.room.tombstone", 100}};
  room.power_levels.users = {{"@alice:example.org", 100}, {"@bob:example.org", -1}};
  room.power_levels.notifications_room = 20;
  room.power_levels.unmanaged = R"({"historical":100})";
  room.children = {{"council/disputes/discussion", {"example.org"}, false}};
  room.parent = model::SpaceLink{"community/riverside", {"example.org", "other.org"}, true};
  room.members = {"@alice:example.org", "@bob:example.org"};
  room.room_version = "10";
  room.is_direct = true;
  room.once_message = model::OnceMessage{"mxctl-context-1", "Hello"};
  room.archived = true;
  room.archived_at = std::numeric_limits<std::int64_t>::min();
  room.protect = true;
  return room;
}

model::MatrixState full_state() {
  model::MatrixState state;
  model::Account alice;
  alice.key = "alice";
  alice.user_id = "@alice:example.org";
  alice.localpart = "alice";
  alice.display_name = "Alice";
  alice.avatar_url = "mxc://example.org/alice";
  alice.admin = true;
  alice.status = model::AccountStatus::suspended;
  alice.linked_accounts = {"@alice:other.org"};
  alice.protect = true;
  state.accounts["alice"] = alice;
  state.accounts["bob"] = model::Account{};
  state.rooms["council/disputes"] = full_room();
  state.rooms["dm/1"] = model::Room{};
  return state;
}

model::ObservedRoom full_observed() {
  model::ObservedRoom observed;
  observed.room_id = "!abc:example.org";
  observed.marker_key = "council/disputes";
  observed.room = full_room();
  observed.members = {{"@alice:example.org", {model::Membership::join, true}},
                      {"@bob:example.org", {model::Membership::knock, false}}};
  observed.parents = {{"community/riverside", {"example.org"}, false}};
  observed.replacement_room = "";
  observed.predecessor = "!old:example.org";
  observed.marker_missing = true;
  return observed;
}

}  // namespace

TEST_CASE("state codec: every field of a state and of an observed room comes back equal", "[state_codec]") {
  const model::MatrixState state = full_state();
  CHECK(model::decode_matrix_state(model::encode_matrix_state(state)) == state);
  CHECK(model::decode_matrix_state(model::encode_matrix_state({})) == model::MatrixState{});
  const model::ObservedRoom observed = full_observed();
  CHECK(model::decode_observed_room(model::encode_observed_room(observed)) == observed);
}

TEST_CASE("state codec: a truncated, extended or foreign encoding is nothing", "[state_codec]") {
  const std::string bytes = model::encode_matrix_state(full_state());
  for (std::size_t size = 0; size < bytes.size(); ++size) {
    INFO("truncated to " << size << " of " << bytes.size() << " bytes");
    CHECK_FALSE(model::decode_matrix_state(bytes.substr(0, size)));
  }
  CHECK_FALSE(model::decode_matrix_state(bytes + '\0'));
  // An observed room is not a state, nor the other way round.
  CHECK_FALSE(model::decode_matrix_state(model::encode_observed_room(full_observed())));
  CHECK_FALSE(model::decode_observed_room(bytes));
}

TEST_CASE("state codec: a changed byte never decodes to a state other than a well-formed one", "[state_codec]") {
  // Flipping each byte in turn either breaks the encoding or gives a state
  // that encodes to exactly those bytes: nothing is read loosely.
  const std::string bytes = model::encode_matrix_state(full_state());
  for (std::size_t at = 0; at < bytes.size(); ++at) {
    for (int flip : {0x01, 0x80, 0xff}) {
      std::string damaged = bytes;
      damaged[at] = static_cast<char>(static_cast<unsigned char>(damaged[at]) ^ flip);
      auto decoded = model::decode_matrix_state(damaged);
      if (decoded) {
        INFO("byte " << at << " flipped with " << int(flip));
        CHECK(model::encode_matrix_state(*decoded) == damaged);
      }
    }
  }
}

TEST_CASE("state codec: counts beyond the bytes, enums out of range and unsorted keys are refused",
          "[state_codec]") {
  SECTION("a count of 2^62 accounts in a few bytes") {
    model::ByteWriter out;
    out.text("mxctl.state.1");
    out.unsigned_int(std::uint64_t{1} << 62);
    CHECK_FALSE(model::decode_matrix_state(std::move(out).take()));
  }
  SECTION("an account status past the last") {
    model::ByteWriter out;
    out.text("mxctl.state.1");
    out.unsigned_int(1);
    out.text("alice");
    for (int i = 0; i < 3; ++i) {
      out.text("x");  // key, user_id, localpart
    }
    out.boolean(false);
    out.boolean(false);
    out.boolean(false);  // admin
    out.signed_int(2);   // status: only 0 and 1 exist
    out.unsigned_int(0);
    out.boolean(false);
    out.unsigned_int(0);  // rooms
    CHECK_FALSE(model::decode_matrix_state(std::move(out).take()));
  }
  SECTION("accounts out of order") {
    model::MatrixState state;
    state.accounts["a"] = {};
    state.accounts["b"] = {};
    std::string bytes = model::encode_matrix_state(state);
    // The two keys are one-byte strings at known places: swap them.
    const std::size_t first = bytes.find('a', 14);
    const std::size_t second = bytes.find('b', first);
    REQUIRE(second != std::string::npos);
    std::swap(bytes[first], bytes[second]);
    CHECK_FALSE(model::decode_matrix_state(bytes));
  }
}

TEST_CASE("byte codec: varints round trip at their limits, one over 64 bits or not in its shortest form is refused", "[state_codec]") {
  for (std::int64_t value : {std::int64_t{0}, std::int64_t{-1}, std::int64_t{63}, std::int64_t{-64},
                             std::numeric_limits<std::int64_t>::max(), std::numeric_limits<std::int64_t>::min()}) {
    model::ByteWriter out;
    out.signed_int(value);
    const std::string bytes = std::move(out).take();
    model::ByteReader in(bytes);
    CHECK(in.signed_int() == value);
    CHECK(in.finished());
  }
  const std::string eleven_bytes = std::string(10, '\xff') + '\x01';
  model::ByteReader too_long(eleven_bytes);
  too_long.unsigned_int();
  CHECK_FALSE(too_long.ok());
  const std::string tenth_byte_high = std::string(9, '\xff') + '\x02';
  model::ByteReader over_64_bits(tenth_byte_high);
  over_64_bits.unsigned_int();
  CHECK_FALSE(over_64_bits.ok());
  const std::string padded("\x80\x00", 2);  // zero, not in its shortest form
  model::ByteReader not_shortest(padded);
  not_shortest.unsigned_int();
  CHECK_FALSE(not_shortest.ok());
}

}  // namespace state_codec_test
