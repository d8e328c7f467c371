#pragma once
// The desired-state compiler: Topology → the MatrixState the homeserver
// should be in. Pure and total: the same topology and settings always give
// the same state, and nothing here fails (validation happens before).
//
// Rooms per object (keys from naming.h):
//   community/<c>              space, invite-only root, shared history, unencrypted
//   community/<c>/general      room, restricted to community/<c>, shared history,
//                              encrypted as declared (FT-17: off by default)
//   council/<k>                space, invite-only, encrypted, invited history
//   council/<k>/discussion     room, restricted to council/<k>, encrypted, invited history
//   dm/<d>                     room, invite-only, direct, encrypted, shared history
// A community's space has the general room and its councils' spaces as
// children (sorted by key); each of those names the community space as its
// canonical parent; a council space has its discussion room as only child.
//
// Decisions beyond the FT-17 text, and why:
// - Council spaces are invite-only, not restricted to the community space:
//   a restricted council space would let any community member join it and
//   then, through it, the discussion room, and FT-17 (UC-2) says only council
//   members can read council messages. Membership still flows from the
//   space: the discussion room is restricted to the council space.
// - Council rooms use `invited` history: councils change members over time,
//   and a new member should not read deliberations from before they were
//   invited ("only council members can read messages").
// - DMs use `shared` history: only the two parties and their linked accounts
//   can ever be members (invite-only, participants are below the invite
//   level), so nothing leaks, and an account linked later (seed 004) can read
//   the coordination that happened before it was linked.
// - Every state event type the controller writes (name, topic, avatar and
//   canonical alias included) is bot-only (100). The controller puts back any
//   change to them on its next pass, so letting moderators change them would
//   only start a tug of war they always lose. Other state types keep the
//   policy's state_default.
// - `users` in power levels lists only levels that differ from users_default
//   (0), plus the bot always: the event stays minimal and a member at 0 has
//   one representation only, so the diff never sees "0 vs absent".
// - Members whose user is deactivated or unknown are left out everywhere;
//   councils whose community is unknown or not matrixEnabled are left out.
//   When two objects share a key, the first declared wins (as find_* does).

#include <map>
#include <string>
#include <string_view>

#include "model/matrix_state.h"

namespace model {

struct PowerPolicy;
struct Settings;
struct Topology;

/// Power level of the controller's bot in every managed room, and the level
/// required for every state event type the controller owns.
inline constexpr int k_bot_level = 100;

/// Appended to the name of a room in its archived form.
inline constexpr std::string_view k_archived_suffix = " (archived)";

/// Topology → desired Matrix state: one Account per User (keyed by user
/// name) and the rooms above (keyed by room key). Assumes the topology passed
/// validation; dangling references (unknown users, communities, policies)
/// are skipped, never a crash.
MatrixState compile(const Topology& topology, const Settings& settings);

/// The policy a community uses: the one named `name`; for an empty or
/// unknown name, the policy named "default" if declared, else
/// PowerPolicy::ft17(). Coordination DMs use the empty name.
PowerPolicy resolve_power_policy(const Topology& topology, std::string_view name);

/// Room version for a new room with `join_rule`: settings.room_version,
/// except that a restricted room with a numeric version below 9 gets "10"
/// (restricted joins need 8, and 8 had a bug fixed in 9). Non-numeric
/// (custom) versions are kept as they are.
std::string room_version_for(JoinRule join_rule, const Settings& settings);

/// The state event types only the bot may change, each at k_bot_level:
/// power levels, encryption, history visibility, join rules, tombstone,
/// server ACL, space child/parent, name, topic, avatar, canonical alias and
/// settings.marker_event_type.
std::map<std::string, int> controller_owned_events(const Settings& settings);

/// Power levels before any member is added: thresholds (invite, kick, ban,
/// redact, events_default, state_default) from `policy`, users_default 0,
/// events = controller_owned_events(settings), and the bot at k_bot_level
/// (unless settings.bot_user_id is empty).
PowerLevels base_power_levels(const PowerPolicy& policy, const Settings& settings);

/// A room's archived form: archived = true, name + k_archived_suffix,
/// join rule invite with no allow_spaces, events_default k_bot_level
/// (posting closed below the bot). Everything else, room version included,
/// is unchanged. Idempotent: an already archived room is returned as is.
Room archived_form(Room room);

}  // namespace model
