#pragma once
// JSON form of the Matrix state for the homeserver: the power levels content
// written to it, and whole states for test fixtures. Field names follow the
// Matrix spec where one exists. What people and saved plans see has its own
// form (controller/state_json.h), so changes here never touch it.

#include <nlohmann/json.hpp>

#include "model/matrix_state.h"

namespace adapters {

/// An account as {"user_id", "localpart", "display_name"?, "avatar_url"?, "admin", "status", "linked_accounts"}.
nlohmann::json to_json(const model::Account& account);

/// The `m.room.power_levels` content (every key written out, spec names),
/// with the keys of `levels.unmanaged` added back where mxctl has no value.
nlohmann::json to_json(const model::PowerLevels& levels);

/// A room with its key, alias, kind, state fields, links and members.
nlohmann::json to_json(const model::Room& room);

/// {"accounts": {key: account}, "rooms": {key: room}}, keys sorted.
nlohmann::json to_json(const model::MatrixState& state);

}  // namespace adapters
