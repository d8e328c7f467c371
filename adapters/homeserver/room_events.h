#pragma once
// Matrix event contents from the model: what mxctl writes into a room
// (createRoom body, state event contents). Reading a room's state back is
// room_state_reader.h. Field names and shapes follow the spec's event
// schemas (tests/spec/matrix-spec-v1.16/data/event-schemas/ holds those the tests use).

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "model/matrix_state.h"
#include "model/plan.h"
#include "model/result.h"
#include "model/settings.h"

namespace adapters {

/// Room ids of managed rooms, by key (the executor's and store's map).
using RoomIds = std::map<std::string, std::string>;

/// The ownership marker's content: {"key": key, "instance": instance}, and
/// "protect": true for a protected room (where a lost state store cannot
/// take the protection with it; the marker's type is the bot's alone to
/// write). Without protection it is exactly what rooms made before had.
nlohmann::json marker_content(const std::string& key, const model::Settings& settings, bool protect = false);

/// The archive record's state event type: the marker's type + ".archive"
/// (namespaced like the marker, so two controllers never share one).
std::string archive_event_type(const model::Settings& settings);

/// `m.room.join_rules` content; `allow` names the allowed spaces by room id
/// (spaces whose id is not yet known are left out).
nlohmann::json join_rules_content(const model::Room& room, const RoomIds& room_ids);

/// Content of the state event that carries `field` for `room`, and its state
/// key. For space_child/space_parent, `link_key` names the other room, which
/// must be in `room_ids` (else `not_found`); for retired_child it is the
/// withdrawn room's id, written as is. power_levels comes from
/// `operation_levels` when given (the diff's merged content), with every key
/// mxctl does not manage written back as observed (PowerLevels::unmanaged).
struct StateWrite {
  std::string type;
  std::string state_key;
  nlohmann::json content;
};
model::Result<StateWrite> state_write(const model::Room& room, model::StateField field, const std::string& link_key,
                                      const model::PowerLevels* operation_levels, const RoomIds& room_ids,
                                      const model::Settings& settings);

/// The whole `POST /createRoom` body for `room`: alias localpart as the
/// idempotency key, creation content (space type, federation), room version,
/// power levels override, and initial_state with the marker, join rules,
/// history visibility, encryption, avatar and the parent link, so the room
/// is complete the moment it exists. Invites are sent separately.
model::Result<nlohmann::json> create_room_body(const model::Room& room, const RoomIds& room_ids,
                                               const model::Settings& settings);

}  // namespace adapters
