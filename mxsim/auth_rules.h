#pragma once
// The room authorization rules (room versions 1-11, as Synapse applies them to
// locally created events): membership transitions, power levels for sending
// each event type, the power-levels change rules and redaction rights.

#include <nlohmann/json.hpp>
#include <string>

#include "mxsim/event.h"
#include "mxsim/room.h"

namespace mxsim {

/// `user_id`'s power level: users[user], else users_default, else 0; without a
/// power-levels event the creator has 100 and everybody else 0.
int user_power_level(const Room& room, const std::string& user_id);
/// A named level ("invite", "kick", "ban", "redact", ...) or `fallback` when unset.
int named_level(const Room& room, const std::string& name, int fallback);
/// The level needed to send `type`: events[type], else state_default (50) for
/// state events or events_default (0) for the rest.
int send_level(const Room& room, const std::string& type, bool is_state);

/// Throws 400 M_BAD_JSON unless every level in a power-levels content is an
/// integer (strings and floats are refused, as Synapse does) and every `users`
/// key is a user id.
void validate_power_levels_content(const nlohmann::json& content);

/// Throws MatrixError (403 M_FORBIDDEN with Synapse's messages) unless `event`
/// may be appended to `room` now. For restricted joins it checks the
/// `join_authorised_via_users_server` user; whether the joiner belongs to an
/// allowed room is the caller's check (it needs other rooms).
void check_event_allowed(const Room& room, const Event& event);

}  // namespace mxsim
