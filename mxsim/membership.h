#pragma once
// Membership changes as Synapse's room member handler makes them: the checks
// before the auth rules (unban of a non-banned user, kicking a non-member,
// leaving twice), profile data in the member event, restricted-join
// authorisation against the allowed rooms, then the auth rules themselves.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "mxsim/access.h"
#include "mxsim/state.h"

namespace mxsim {

/// One requested change. `action` is "invite", "join", "leave", "kick",
/// "ban", "unban" or "knock".
struct MembershipChange {
  std::string sender;
  std::string target;
  std::string action;
  std::optional<std::string> reason;
  /// Extra content keys (e.g. is_direct for createRoom invites, or the body of a
  /// member state PUT); membership and the authorising user are set here.
  nlohmann::json extra_content = nlohmann::json::object();
};

/// Applies `change` to `room` and returns the member event id (an earlier
/// one when nothing changes, e.g. leaving twice). Throws MatrixError with
/// Synapse's status and errcode when refused.
std::string update_membership(ServerState& state, Room& room, const MembershipChange& change);

/// Sends fresh join events carrying `user_id`'s current profile into every
/// room they are joined to, as Synapse does after a profile change; rooms
/// that refuse are skipped.
void propagate_profile(ServerState& state, const std::string& user_id);

/// The profile keys (displayname, avatar_url) Synapse copies into member
/// events for `user_id`; empty when the user is unknown or has none.
nlohmann::json profile_content(ServerState& state, const std::string& user_id);

}  // namespace mxsim
