#pragma once
// What the homeserver holds of the things this controller manages, as the
// observer found it. Rooms are matched to keys through the state store, then
// the canonical alias, then the ownership marker (DESIGN.md, "Identity").

#include <map>
#include <set>
#include <optional>
#include <string>
#include <vector>

#include "model/matrix_state.h"

namespace model {

/// A user's `m.room.member` membership.
enum class Membership { invite, join, leave, ban, knock };

/// "invite", "join", ...
const char* to_string(Membership membership);

/// One member event as observed.
struct MemberState {
  Membership membership = Membership::join;
  /// The user changed it themselves (a voluntary leave, not a kick).
  bool by_self = false;
  bool operator==(const MemberState&) const = default;
};

/// A managed room as found on the server.
struct ObservedRoom {
  std::string room_id;
  /// Key in the ownership marker; empty when the room carries none, and then
  /// mxctl must never change it.
  std::string marker_key;
  /// The room's state in the same shape as the desired state. `room.members`
  /// holds the users whose membership is join or invite; `room.power_levels`
  /// is the full event content, including users mxctl does not manage.
  Room room;
  /// Every member event, by full MXID.
  std::map<std::string, MemberState> members;
  /// Every `m.space.parent` with a `via`; `room.parent` is the one chosen
  /// of them (a room can have several, e.g. after its space was upgraded).
  std::vector<SpaceLink> parents{};
  /// The room that replaced this one, as its `m.room.tombstone` names it
  /// (replacement_room, empty when the tombstone names none); nullopt when
  /// the room has no tombstone.
  std::optional<std::string> replacement_room{};
  /// The room this one replaced (its `m.room.create`'s predecessor); empty
  /// when it replaced none.
  std::string predecessor{};
  /// The room replaces an upgraded room of `marker_key` and carries no
  /// marker of its own yet: the plan writes it.
  bool marker_missing = false;
  bool operator==(const ObservedRoom&) const = default;
};

/// A managed room closed by a tombstone whose replacement mxctl is not in
/// (yet): the replacement is joined and taken over, never guessed at.
struct UpgradedRoom {
  /// The tombstoned room, which mxctl no longer changes.
  std::string room_id;
  /// The tombstone's replacement_room as written; may be anything.
  std::string replacement_room;
  /// mxctl is in the replacement already, and it does not name the
  /// tombstoned room as its predecessor: not to be taken over.
  bool disowned = false;
  bool operator==(const UpgradedRoom&) const = default;
};

/// The live side of a diff.
struct ObservedState {
  /// Existing accounts, by topology key.
  std::map<std::string, Account> accounts;
  /// Managed rooms, by key.
  std::map<std::string, ObservedRoom> rooms;
  /// Rooms holding one of our aliases without our marker: key → room id.
  /// They are reported, never adopted or overwritten.
  std::map<std::string, std::string> alias_clashes;
  /// Keys whose room was upgraded to a room mxctl is not in, by key.
  std::map<std::string, UpgradedRoom> upgraded;
  /// Managed rooms closed by a tombstone (room ids): space links to them
  /// are withdrawn.
  std::set<std::string> retired_rooms;
  /// Keys of rooms whose once-message was already sent (from the store).
  std::set<std::string> messages_sent;
  /// (room key, user id) pairs whose m.direct entry was set (from the store).
  std::set<std::pair<std::string, std::string>> directs_set;
  /// Why this homeserver cannot suspend accounts in a way mxctl can read back
  /// (no suspend API, no `locked` flag); empty when it can, or when no
  /// account needed looking at.
  std::string cannot_suspend;
};

}  // namespace model
