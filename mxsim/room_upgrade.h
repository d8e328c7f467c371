#pragma once
// Room upgrades as Synapse 1.67 makes them (handlers/room.py,
// RoomCreationHandler.upgrade_room): a new room cloned from the old one's
// state, a tombstone in the old room, aliases moved, power levels restricted.

#include <string>

#include "mxsim/access.h"
#include "mxsim/state.h"

namespace mxsim {

/// Upgrades `old_room_id` to `new_version` (already checked supported) for
/// `requester` and returns the replacement room's id. Throws 400 M_UNKNOWN
/// while another user's upgrade of the room is remembered (5 minutes), 404
/// M_NOT_FOUND for an unknown room, 403 M_FORBIDDEN when the requester may
/// not send m.room.tombstone there, and 500 when the old room has no power
/// levels (or no `events` levels) to clone. A repeat by the same user within
/// 5 minutes answers the same room without changing anything.
std::string upgrade_room(ServerState& state, const Requester& requester, const std::string& old_room_id,
                         const std::string& new_version);

}  // namespace mxsim
