#pragma once
// A plan: what a pass would change, at two levels. `changes` are per resource
// (an account, a room) with field-level before/after, for people to review
// (terraform-style). `operations` are the individual homeserver calls the
// executor makes, each with its dependencies, so independent ones can run
// concurrently while order-dependent ones (space before child, room before
// invite, account before membership) wait.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/field_value.h"
#include "model/matrix_state.h"

namespace model {

/// A piece of room state the controller writes.
enum class StateField {
  name,                ///< m.room.name
  topic,               ///< m.room.topic
  avatar,              ///< m.room.avatar
  join_rules,          ///< m.room.join_rules (rule and allow list)
  history_visibility,  ///< m.room.history_visibility
  guest_access,        ///< m.room.guest_access, always "forbidden"
  encryption,          ///< m.room.encryption (only ever turned on)
  power_levels,        ///< m.room.power_levels (read-modify-write, see Operation::power_levels)
  space_child,         ///< m.space.child, state_key = the child's room id
  space_parent,        ///< m.space.parent, state_key = the parent's room id
  /// The archive record: a state event of type `<marker type>.archive`
  /// holding `archived_at` (empty content once restored), so a lost state
  /// store does not reset the grace period.
  archive_record,
  /// The ownership marker itself, rewritten (same key and instance) when
  /// the room's protection changes, so a lost state store does not lose it.
  marker,
  /// m.space.child withdrawn (empty content) from a space, state_key = the
  /// Operation::room_id of a managed room an upgrade replaced.
  retired_child,
};

/// The spec event type written for a field ("m.room.name", ...).
const char* event_type(StateField field);

/// A field's old and new value; absent means the field is not set on that
/// side.
struct FieldChange {
  std::string name;
  std::optional<FieldValue> before;
  std::optional<FieldValue> after;
  bool operator==(const FieldChange&) const = default;
};

/// One homeserver call.
struct Operation {
  enum class Kind {
    create_account,  ///< provision `account_key` with its profile
    update_account,  ///< bring `account_key`'s profile/admin flag in line
    create_room,     ///< create `room_key` with everything it needs in one createRoom
    set_state,       ///< write `field` of `room_key`
    invite,          ///< invite `user_id` into `room_key`
    kick,            ///< remove `user_id` from `room_key`
    send_message,    ///< send `room_key`'s once-message (txn id from the key)
    set_direct,      ///< list DM `room_key` in `user_id`'s m.direct account data
    delete_room,     ///< hard-delete `room_key` (its grace period is over)
    suspend_account,     ///< suspend `account_key` (`user_id`); it keeps its history
    reactivate_account,  ///< undo the suspension of `account_key`
    /// Upgrade `room_key` to its desired room version; the new room's id is
    /// the outcome, and the old one keeps the tombstone.
    upgrade_room,
    /// Join `room_id`, the room `room_key`'s tombstoned room was replaced by,
    /// so the next observation can read and take it over.
    join_replacement,
  };

  Kind kind = Kind::set_state;
  std::string room_key;
  std::string account_key;
  std::string user_id;
  /// For join_replacement: the room to join; for set_state of
  /// retired_child: the replaced room whose link is withdrawn.
  std::string room_id;
  StateField field = StateField::name;
  /// For space_child / space_parent: the key of the room at the other end;
  /// for delete_room: the parent space it is unlinked from (empty if none).
  std::string link_key;
  /// For power_levels: the complete content to write, i.e. the observed
  /// event with the fields mxctl owns replaced (other users kept).
  std::optional<PowerLevels> power_levels;
  /// Indices into Plan::operations that must succeed first.
  std::vector<std::size_t> depends_on;
  /// Why: shown by `--explain` and recorded in the journal.
  std::string reason;
  /// For delete_room: when the room was archived (ms since the epoch), kept
  /// in the tombstone.
  std::optional<std::int64_t> archived_at;
  /// The field changes of the plan this operation carries out (what the
  /// audit log records as before and after); empty for the rest.
  std::vector<FieldChange> fields;
  /// For create_room: members the createRoom invites itself, after the
  /// room's initial state (at most k_most_invites_with_create_room, local
  /// accounts only); the operation depends on their accounts' creation.
  std::vector<std::string> invitees;

  bool operator==(const Operation&) const = default;
};

/// The most members one createRoom invites: Synapse refuses a createRoom
/// inviting more than its per-room invite burst (rc_invites.per_room,
/// default 10) at once to a requester its rate limits apply to.
inline constexpr std::size_t k_most_invites_with_create_room = 10;

/// "create room community/riverside", "invite @a:x to council/disputes", ...
std::string describe(const Operation& operation);

/// The kind's name as spelled in the enum: "create_room", "invite", ...
/// (log fields and metric labels).
const char* to_string(Operation::Kind kind);

/// What happens to one resource.
struct ResourceChange {
  /// create `+`, update `~`, archive and restore (updates with a lifecycle
  /// meaning, `~`), suspend (an account, `~`), destroy `-` (hard delete after
  /// the grace period), error (cannot be carried out).
  enum class Action { create, update, archive, restore, suspend, destroy, error };

  /// "account.alice", "room.community/riverside".
  std::string address;
  Action action = Action::update;
  std::vector<FieldChange> fields;
  std::string reason;
  /// Indices into Plan::operations carrying this change out (none for errors).
  std::vector<std::size_t> operations;

  bool operator==(const ResourceChange&) const = default;
};

/// The whole plan; empty when the homeserver already matches.
struct Plan {
  std::vector<ResourceChange> changes;
  std::vector<Operation> operations;
  /// What the desired state asks for but this homeserver cannot do, or what
  /// the pass found about its own records (a state store that was reset),
  /// said once per plan; no operation carries it out, so it does not make
  /// the plan non-empty.
  std::vector<std::string> warnings;

  /// No changes and no errors.
  bool empty() const { return changes.empty(); }
  /// Changes that cannot be carried out (shown as errors; apply refuses them).
  std::size_t error_count() const;
  std::size_t count(ResourceChange::Action action) const;
};

}  // namespace model
