#pragma once
// Room operations shared by the client and admin APIs: room creation in the
// spec's event order, state changes with Synapse's validation and
// deduplication, messages, redactions, and who may read a room's state.

#include <cstddef>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "mxsim/access.h"
#include "mxsim/state.h"

namespace mxsim {

/// Room versions the simulator can create ("1".."11").
bool is_supported_room_version(const std::string& version);

/// What createRoom produced.
struct CreatedRoom {
  std::string room_id;
  std::string alias;  ///< "" when no room_alias_name was given
};

/// Runs POST /createRoom for `requester` with request `body`. Validates the
/// whole body before creating anything (M_UNSUPPORTED_ROOM_VERSION,
/// M_ROOM_IN_USE, M_EXCLUSIVE, M_BAD_JSON, M_INVALID_PARAM), then registers
/// the alias and sends create, creator join, power levels (override merged),
/// canonical alias, the preset's join rules / history visibility / guest
/// access, initial_state, name, topic and invites, in that order.
/// `persisting`, when given, is called after the alias is registered and
/// again before initial_state: a caller may release the state lock there
/// for a while, so others see the room half made, as on Synapse.
/// `check_invite_count`, when given, is called with the number of invitees
/// once they are validated (after the alias, as Synapse checks) and may
/// throw to refuse the request.
CreatedRoom create_room(ServerState& state, const Requester& requester, const nlohmann::json& body,
                        const std::string& default_version, const std::function<void()>& persisting = {},
                        const std::function<void(std::size_t)>& check_invite_count = {});

/// Sets a state event as `sender` and returns its event id. An identical
/// event from the same sender returns the existing id without a new event;
/// m.room.member goes through update_membership; power levels and canonical
/// aliases are validated first (400 M_BAD_JSON / M_BAD_ALIAS).
std::string put_state(ServerState& state, Room& room, const std::string& sender, const std::string& type,
                      const std::string& state_key, const nlohmann::json& content);

/// Sends a message-like event and returns its id (auth rules apply).
std::string send_message(ServerState& state, Room& room, const std::string& sender, const std::string& type,
                         const nlohmann::json& content);

/// Redacts `target_id` as `sender` and returns the redaction's event id.
std::string redact_event(ServerState& state, Room& room, const std::string& sender, const std::string& target_id,
                         const nlohmann::json& content);

/// The state `user_id` may see: the current state when joined or the room is
/// world-readable, the state at their departure when they left or were
/// banned. Throws 403 "User … not in room …, and room previews are disabled"
/// otherwise (also for unknown or deleted rooms, as Synapse answers).
std::map<StateKey, const Event*> readable_state(ServerState& state, const std::string& room_id,
                                                const std::string& user_id);

/// Removes `alias` from the directory and from the room's canonical alias
/// event (sent as `sender`, best effort). No-op for unknown aliases.
void remove_alias(ServerState& state, const std::string& alias, const std::string& sender);

}  // namespace mxsim
