#pragma once
// The state of the bot's rooms as /sync reports it, kept up to date from one
// sync answer to the next. An initial sync gives every room's full state; an
// incremental one gives only what changed (in the state block, and for
// Synapse sometimes in the timeline), newly joined rooms in full, and the
// rooms left. Applying answers in order reproduces the current state.

#include <map>
#include <optional>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

namespace adapters {

/// Current state events of each room, by room id, then by (type, state_key).
using RoomStates = std::map<std::string, std::map<std::pair<std::string, std::string>, nlohmann::json>>;

/// What one sync answer changed.
struct SyncChanges {
  std::set<std::string> updated;  ///< rooms whose state was added or replaced
  std::set<std::string> removed;  ///< rooms the bot is no longer joined to
};

/// Folds a /sync answer into `states`: for each joined room, state-block
/// events then timeline events that carry a state_key replace the event with
/// the same (type, state_key); each left room is dropped.
SyncChanges apply_sync(const nlohmann::json& sync, RoomStates& states);

/// A room's state as a JSON array (the stored snapshot form).
std::string snapshot_text(const RoomStates::mapped_type& state);

/// Parses a stored snapshot; nothing when it is not an array of events.
std::optional<RoomStates::mapped_type> parse_snapshot(const std::string& text);

/// A room's state as the array of events parse_room_state reads.
nlohmann::json state_array(const RoomStates::mapped_type& state);

}  // namespace adapters
