#pragma once
// Room version 12 (MSC4289): a room's creators (the m.room.create sender and
// its `additional_creators`) have unlimited power and must not be listed in
// m.room.power_levels `users` (a homeserver refuses such power levels). The
// desired state always lists the bot at k_bot_level; the homeserver adapter
// bridges the two here, so the diff sees no difference either way:
// - writing (createRoom override, power-levels PUT): creators are left out;
// - reading: creators are put back at the level the desired state wants
//   (unlimited power satisfies any level).

#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "model/matrix_state.h"

namespace adapters {

/// True for room versions whose creators outrank every power level: "12"
/// and every later numeric version, and Synapse's pre-release of 12
/// ("org.matrix.hydra.11"). False for other non-numeric (custom) versions.
bool creators_have_unlimited_power(const std::string& room_version);

/// The creators named by a room's state events (the `m.room.create` sender,
/// plus the string entries of its content's `additional_creators`); empty
/// when there is no create event.
std::set<std::string> room_creators(const nlohmann::json& state_events);

/// Removes `creators` from the `users` object of power-levels content
/// (`m.room.power_levels` content or createRoom's power_level_content_override).
/// Nothing happens when there is no `users` object.
void leave_out_creators(nlohmann::json& power_levels_content, const std::set<std::string>& creators);

/// Puts each creator that `desired` lists in `users` into `observed.users` at
/// the desired level; creators the desired state does not list stay as
/// observed (normally absent).
void credit_creators(model::PowerLevels& observed, const model::PowerLevels& desired,
                     const std::set<std::string>& creators);

}  // namespace adapters
