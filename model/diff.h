#pragma once
// The diff: desired × observed → Plan. Pure; the only function the planner
// and every plan test go through.

#include <cstdint>
#include <string>

#include "model/matrix_state.h"
#include "model/observed_state.h"
#include "model/plan.h"

namespace model {

/// Knobs of the diff that are policy, not state.
struct DiffOptions {
  /// The controller's own account: always at level 100, never invited or kicked.
  std::string bot_user_id;
  /// Re-invite a user who left a community room of their own accord.
  /// Default no: leaving the general chat is a person's choice (issue 4).
  bool reinvite_to_community_rooms = false;
  /// Re-invite a user who left a council room or coordination DM. Default yes:
  /// council membership is an office, not a preference.
  bool reinvite_to_council_rooms = true;
  /// Suspend and reactivate accounts as their status says. Off where the
  /// homeserver offers no way to (appservice provisioning).
  bool manage_account_status = true;
  /// Upgrade a room whose room version is older than the desired one
  /// (`--upgrade-rooms`); otherwise the plan only warns.
  bool upgrade_rooms = false;
  /// Invite a new room's first local members in its createRoom instead of
  /// one request each (not in DMs, whose invites wait for the context
  /// message). Off under forceJoin, where local members are joined.
  bool invite_with_create_room = true;
};

/// "2026-11-23": the UTC date of a Matrix timestamp (ms since the epoch).
std::string date_text(std::int64_t ms_since_epoch);

/// Everything needed to take `observed` to `desired`, for the fields mxctl
/// owns only:
/// - accounts missing are created, differing profiles updated;
/// - rooms missing are created (parents first; everything the room needs goes
///   into the one createRoom call), differing state fields are set, power
///   levels are merged (thresholds and managed users replaced, other users'
///   levels kept), missing space links are added, desired members invited,
///   undesired members kicked from council rooms and DMs, once-messages sent,
///   and each DM listed once in its local participants' m.direct;
/// - impossible changes (a space that is a room on the server, encryption on
///   the server but not desired, a banned member, an alias held by an
///   unmanaged room, a marker naming another key) become `error` changes and
///   no operation.
/// Rooms and accounts observed but no longer desired are left alone here
/// (archiving is the lifecycle's job). Deterministic: same inputs, same plan.
Plan diff(const MatrixState& desired, const ObservedState& observed, const DiffOptions& options);

}  // namespace model
