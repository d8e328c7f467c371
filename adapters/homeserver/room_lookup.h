#pragma once
// Rooms read one at a time, without /sync: a room's current state from
// GET /rooms/{id}/state (the state the server resolved, which /sync on
// Synapse can fall short of when concurrent writes fork a room's event
// graph), and the room an alias names (GET /directory/room/{alias}).

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "adapters/homeserver/matrix_client.h"
#include "adapters/homeserver/sync_state.h"
#include "model/result.h"
#include "model/settings.h"

namespace adapters {

/// A room's current state. nullopt when the bot may not read it: Synapse
/// answers 403 for a room the bot is not in, one that does not exist (yet)
/// and one deleted; 404 is taken the same way. Other failures are errors.
model::Result<std::optional<RoomState>> fetch_room_state(MatrixClient& client, const std::string& room_id);

/// Aliases looked up in one observation: alias → room id, nullopt when the
/// alias is not assigned. Each alias is asked for at most once.
using AliasLookups = std::map<std::string, std::optional<std::string>>;

/// The room `alias` names, from `lookups` or the server (then remembered).
model::Result<std::optional<std::string>> resolve_alias(MatrixClient& client, const std::string& alias,
                                                        AliasLookups& lookups);

/// A room read with fetch_room_state, in the model's form.
struct FreshRoom {
  /// The room as observed.
  BotRoom room;
  /// snapshot_text of its state, when asked for.
  std::string snapshot;
};

/// Reads each of `room_ids` with fetch_room_state, up to `in_flight` at
/// once (a large apply writes to thousands of rooms, and one round trip
/// after another would make the next pass wait for each), and turns each
/// into its FreshRoom on the reading thread. The result is in the order of
/// `room_ids`: nullopt for a room the bot cannot read. The first error
/// stops the reading and is returned.
model::Result<std::vector<std::optional<FreshRoom>>> read_rooms_afresh(MatrixClient& client,
                                                                       const std::vector<std::string>& room_ids,
                                                                       const model::Settings& settings,
                                                                       bool with_snapshots, int in_flight = 8);

/// Reads each room of `room_ids` that `rooms` holds again with
/// read_rooms_afresh and replaces its entry and snapshot by what it read
/// (not by a fold of /sync). A room the bot can no longer read is dropped
/// from `rooms` and its snapshot forgotten, as if /sync had said it left.
/// Rooms `rooms` does not hold (left, deleted) are not asked for.
model::Result<void> reread_rooms(MatrixClient& client, const std::set<std::string>& room_ids,
                                 const model::Settings& settings, BotRooms& rooms);

}  // namespace adapters
