#pragma once
// The Matrix side of the world: accounts and rooms with exactly the fields the
// controller owns. One type serves as the desired state (compiled from the
// Topology) and the observed state (read from the homeserver), so the diff
// compares like with like. Defaults are the Matrix spec's defaults.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace model {

/// Whether an account may log in and take part.
enum class AccountStatus { active, suspended };

/// An account on our homeserver.
struct Account {
  /// Topology key of the user ("alice").
  std::string key;
  /// Full MXID, "@alice:example.org".
  std::string user_id;
  std::string localpart;
  std::optional<std::string> display_name;
  std::optional<std::string> avatar_url;
  /// Server admin flag.
  bool admin = false;
  AccountStatus status = AccountStatus::active;
  /// Full MXIDs of the same person elsewhere (seed 004).
  std::vector<std::string> linked_accounts;
  /// `protect: true`: removing it from the desired state is refused.
  bool protect = false;
  bool operator==(const Account&) const = default;
};

/// `m.room.create` content `type`: a space or an ordinary room.
enum class RoomKind { room, space };

/// `m.room.join_rules` `join_rule` values the controller uses.
enum class JoinRule { invite, restricted, public_ };

/// `m.room.history_visibility` values.
enum class HistoryVisibility { invited, joined, shared, world_readable };

/// The spec's name for each value ("space" has no string: it is the create `type`).
const char* to_string(RoomKind kind);
const char* to_string(JoinRule rule);
const char* to_string(HistoryVisibility visibility);

/// `m.room.power_levels` content, with the spec's defaults for absent keys.
struct PowerLevels {
  int ban = 50;
  int invite = 0;
  int kick = 50;
  int redact = 50;
  int events_default = 0;
  int state_default = 50;
  int users_default = 0;
  /// Per event type levels.
  std::map<std::string, int> events;
  /// Per user levels (full MXIDs).
  std::map<std::string, int> users;
  /// `notifications.room`.
  int notifications_room = 50;
  /// Every other key of the observed content, as the JSON text of one object
  /// (`historical`, unknown keys, `notifications` keys but `room`); empty when
  /// none. Opaque here: carried from the observation into the write unchanged.
  std::string unmanaged;

  /// Effective level of `user_id` (its entry, else users_default).
  int level_of(const std::string& user_id) const;
  bool operator==(const PowerLevels&) const = default;
};

/// An `m.space.child` (on the parent) or `m.space.parent` (on the child) link,
/// by room key; `via` lists server names to join through.
struct SpaceLink {
  std::string key;
  std::vector<std::string> via;
  /// `m.space.parent` `canonical`; `m.space.child` ignores it.
  bool canonical = true;
  bool operator==(const SpaceLink&) const = default;
};

/// A message sent once into a room (the coordination context message).
/// `txn_id` is derived from the room key so a retry never sends it twice.
struct OnceMessage {
  std::string txn_id;
  std::string body;
  bool operator==(const OnceMessage&) const = default;
};

/// A managed room or space.
struct Room {
  /// Stable key: "community/riverside", "community/riverside/general",
  /// "council/disputes", "council/disputes/discussion", "dm/request-8841".
  std::string key;
  /// Full canonical alias, "#mxctl.community.riverside:example.org".
  std::string alias;
  RoomKind kind = RoomKind::room;
  std::string name;
  std::string topic;
  std::optional<std::string> avatar_url;
  JoinRule join_rule = JoinRule::invite;
  /// For `restricted`: keys of the spaces whose members may join.
  std::vector<std::string> allow_spaces;
  HistoryVisibility history_visibility = HistoryVisibility::shared;
  /// Guests may not join: `m.room.guest_access` is not "can_join" (absent
  /// reads as forbidden, as the spec says). Desired: written "forbidden"
  /// when the server says "can_join"; false leaves guest access alone.
  bool guests_forbidden = false;
  bool encrypted = false;
  PowerLevels power_levels;
  /// `m.space.child` events (spaces only), by child key.
  std::vector<SpaceLink> children;
  /// `m.space.parent` event, by parent key.
  std::optional<SpaceLink> parent;
  /// Full MXIDs that should be members (joined or invited). The bot is implied.
  std::set<std::string> members;
  std::string room_version;
  /// A DM: invites carry `is_direct` and members get `m.direct` entries.
  bool is_direct = false;
  std::optional<OnceMessage> once_message;
  /// The room is in its archived form (posting closed, name marked, invite-only).
  bool archived = false;
  /// When it was archived (ms since the Unix epoch, like Matrix timestamps),
  /// as recorded in the room's archive state event; absent when not archived.
  std::optional<std::int64_t> archived_at;
  /// `protect: true`: never hard-deleted, and removing it from the desired
  /// state is refused.
  bool protect = false;
  bool operator==(const Room&) const = default;
};

/// A room made without encryption, which is turned on after its context
/// message: the message is then the room's first, in plain text clients do
/// not flag, and nobody is invited before the room is encrypted.
inline bool encrypted_after_message(const Room& room) { return room.encrypted && room.once_message.has_value(); }

/// Accounts and rooms, each keyed by its stable key.
struct MatrixState {
  std::map<std::string, Account> accounts;
  std::map<std::string, Room> rooms;
  bool operator==(const MatrixState&) const = default;
};

}  // namespace model
