#pragma once
// Where an operation writes, for scheduling: the rooms that get a new event
// from it, the account data it rewrites whole, and the remote server an
// invite must reach. Synapse creates up
// to five events per room at once on the same parent; two of mxctl's writes
// to one room in flight together leave the room forked, and an incremental
// /sync then misses one of them (synapse-observed.md). The executor keeps
// such writes apart; this says which writes those are.

#include <string>
#include <vector>

namespace model {
struct Operation;
}

namespace controller {

/// Keys of the rooms `operation` adds events to, without duplicates:
/// - create_room, set_state, invite, kick, send_message: its room_key (a
///   space-child link is set_state in the parent space, whose key that is;
///   a parent link is set_state in the child);
/// - delete_room: its room_key and, when set, link_key (the parent space
///   it unlinks the room from);
/// - set_direct (account data) and account operations: none.
/// An empty key is never listed.
std::vector<std::string> rooms_written(const model::Operation& operation);

/// What `operation` may not share with another operation in flight: the
/// rooms it writes (rooms_written) and, for set_direct, the user's m.direct
/// ("m.direct " + user id, never a room key): it is read, changed and
/// written back whole, so two changes to it at once would lose one.
std::vector<std::string> exclusive_targets(const model::Operation& operation);

/// The server of the user an invite goes to (the part of user_id after the
/// first ':'); empty for every other kind and for a user id without one.
std::string invited_server(const model::Operation& operation);

}  // namespace controller
