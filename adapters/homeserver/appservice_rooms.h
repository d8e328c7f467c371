#pragma once
// Observing the managed rooms as an application service. Synapse refuses
// /sync to an appservice's sender (handlers/sync.py: "We no longer support
// AS users using /sync directly", answered as a bare 500), so the rooms are
// found from what mxctl knows (the state store's key → room id map) and from
// the desired aliases, and each is read with GET /rooms/{id}/state. Markers
// still decide which room is which key. No sync token, no snapshots: every
// pass reads every managed room in full.

#include <map>
#include <string>

#include "adapters/homeserver/matrix_client.h"
#include "adapters/homeserver/room_lookup.h"
#include "adapters/homeserver/sync_state.h"
#include "model/matrix_state.h"
#include "model/result.h"
#include "model/settings.h"

namespace adapters {

/// Reads the rooms of `room_ids` (key → room id, the store's map) and, for
/// each room of `desired` that none of them carries the marker of, the room
/// its alias names (looked up through `aliases`, which keeps the answers
/// for the caller). Rooms the bot cannot read are left out; a room holding
/// a desired alias without the marker is read like the others (the caller
/// tells a clash from a room still being made). The result has no sync
/// token, and says to forget every snapshot of `snapshots` (by room id):
/// the store keeps none in this mode.
model::Result<BotRooms> read_managed_rooms(MatrixClient& client, const model::MatrixState& desired,
                                           const std::map<std::string, std::string>& room_ids,
                                           const std::map<std::string, std::string>& snapshots,
                                           const model::Settings& settings, AliasLookups& aliases);

}  // namespace adapters
