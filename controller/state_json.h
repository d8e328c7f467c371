#pragma once
// The JSON form of a desired state that people and saved plans see:
// `mxctl desired -o json` prints it and a saved plan's digest is taken of it.
// Kept apart from the JSON sent to the homeserver (adapters/homeserver), so
// a change on the wire cannot turn every saved plan stale.

#include <nlohmann/json.hpp>

#include "model/matrix_state.h"

namespace controller {

/// {"accounts": {key: account}, "rooms": {key: room}}, keys sorted. An
/// account: user_id, localpart, display_name and avatar_url when set,
/// admin, status, linked_accounts. A room: key, alias, kind, name, topic,
/// avatar_url when set, join_rule, allow_spaces when any,
/// history_visibility, guest_access ("forbidden") when managed, encrypted, room_version, power_levels (spec names,
/// with the unmanaged keys added back), parent and children when any,
/// members, is_direct, once_message when set, archived. Its bytes are part
/// of every saved plan's digest: change them and saved plans go stale.
nlohmann::json state_json(const model::MatrixState& state);

}  // namespace controller
