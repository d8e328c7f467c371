#pragma once
// Upgraded rooms among those the bot is in: a managed room closed by an
// `m.room.tombstone` is no longer its key's room; the room that replaced it
// is, once the bot is in it.

#include <map>
#include <string>

#include "adapters/homeserver/sync_state.h"

namespace adapters {

/// A marked room closed by a tombstone.
struct RetiredRoom {
  std::string key;          ///< the key its marker names
  std::string replacement;  ///< the tombstone's replacement_room, as written
  bool operator==(const RetiredRoom&) const = default;
};

/// What find_upgrades found.
struct UpgradedRooms {
  /// Marked rooms with a tombstone, by room id.
  std::map<std::string, RetiredRoom> retired;
  /// Unmarked rooms that replace a retired room and name it as their
  /// predecessor: room id → the key they take over.
  std::map<std::string, std::string> successors;
};

/// The retired rooms of `rooms` (by room id) and their successors among them.
UpgradedRooms find_upgrades(const std::map<std::string, BotRoom>& rooms);

}  // namespace adapters
