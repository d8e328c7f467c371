#pragma once
// The diff's insides, shared by the files that implement it: diff.cc (the
// pass and the accounts), diff_rooms.cc (a room's creation, state fields,
// power levels and space links) and diff_members.cc (invites and kicks,
// m.direct, the once-message). Not for use outside model/diff*.cc.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "model/diff.h"
#include "model/naming.h"

namespace model::diffing {

/// `text` in double quotes, with `"` and `\` escaped: a map key in a field name.
inline std::string quote(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out + "\"";
}

/// A plan value holding text.
inline FieldValue text(std::string value) { return TextValue{std::move(value)}; }

/// A text value, or none when `value` is absent.
inline std::optional<FieldValue> optional_text(const std::optional<std::string>& value) {
  if (!value) {
    return std::nullopt;
  }
  return text(*value);
}

/// A plan value holding a power level.
inline FieldValue level(int value) { return std::int64_t{value}; }

/// A level value, or none when `value` is null.
inline std::optional<FieldValue> optional_level(const int* value) {
  if (!value) {
    return std::nullopt;
  }
  return level(*value);
}

/// The join rule with its allowed spaces, which only a restricted rule keeps.
inline FieldValue join_rule_value(const Room& room) {
  return JoinRuleValue{room.join_rule,
                       room.join_rule == JoinRule::restricted ? room.allow_spaces : std::vector<std::string>{}};
}

/// True for council rooms and coordination DMs, whose membership is an office.
inline bool is_council_or_dm(const std::string& key) {
  const RoomKeyKind kind = room_key_kind(key);
  return kind == RoomKeyKind::council || kind == RoomKeyKind::coordination;
}

/// True when both are spec room versions (decimal numbers) and `observed`
/// is the lower one.
bool is_older_version(const std::string& observed, const std::string& desired);

/// An operation of `kind` on a room, an account or a room member; the rest
/// (dependencies, reason, fields) is the caller's to fill in.
inline Operation make_operation(Operation::Kind kind, std::string room_key, std::string account_key = "",
                                std::string user_id = "") {
  Operation op;
  op.kind = kind;
  op.room_key = std::move(room_key);
  op.account_key = std::move(account_key);
  op.user_id = std::move(user_id);
  return op;
}

/// Builds the plan; one instance per diff() call. Each diff_* method adds to
/// the plan the operations its part needs, with their dependencies.
class Differ {
 public:
  /// Keeps references to (and views into) all three: they must outlive it.
  Differ(const MatrixState& desired, const ObservedState& observed, const DiffOptions& options);

  /// The plan: accounts, then rooms (parents first), then account statuses.
  /// Call once: it moves the plan out.
  Plan run();

 private:
  /// Appends `operation`; returns its index, which later operations name in
  /// depends_on.
  std::size_t add_operation(Operation operation) {
    m_plan.operations.push_back(std::move(operation));
    return m_plan.operations.size() - 1;
  }

  /// Keeps `change` only if it is an error or has operations: a resource that
  /// matches the desired state has no change.
  void add_change(ResourceChange change) {
    if (change.action == ResourceChange::Action::error || !change.operations.empty()) {
      m_plan.changes.push_back(std::move(change));
    }
  }

  /// The operation creating `user_id`'s account, if this plan creates it.
  std::vector<std::size_t> account_dependency(const std::string& user_id) const {
    auto it = m_account_creations.find(user_id);
    return it == m_account_creations.end() ? std::vector<std::size_t>{} : std::vector<std::size_t>{it->second};
  }

  /// The operation creating the room `key`, if this plan creates it.
  std::vector<std::size_t> room_dependency(const std::string& key) const {
    auto it = m_room_creations.find(key);
    return it == m_room_creations.end() ? std::vector<std::size_t>{} : std::vector<std::size_t>{it->second};
  }

  // Accounts (diff.cc).

  /// Creates a missing account or updates a differing profile; a status
  /// change is only noted here, and planned after the rooms.
  void diff_account(const Account& want);
  /// The warning naming every account the server cannot suspend, and why.
  std::string unsuspendable_warning() const;
  /// Suspends or reactivates `want`; a suspension waits for every demotion
  /// and for every kick of that user.
  void plan_status_change(const Account& want);

  // Rooms (diff_rooms.cc).

  /// Plans the createRoom of a room neither observed nor blocked by an alias
  /// clash, and records it in m_room_creations.
  void plan_creation(const Room& want);
  /// The change of one desired room: an error if its alias, marker or type
  /// forbids any, its creation if it is new, else what differs.
  void diff_room(const Room& want);
  /// The change of a room this plan creates: the fields createRoom sets, then
  /// its links, once-message (and the encryption that follows it), invites
  /// and m.direct entries.
  void diff_new_room(const Room& want, const std::string& address);
  /// Upgrades `have` to the desired room version and marks the new room;
  /// the rest of the room waits for the next pass, which reads it.
  void plan_upgrade(const Room& want, const ObservedRoom& have, const std::string& address);
  /// The change of a room whose marked room was upgraded to one mxctl is
  /// not in: join the replacement, or an error when the tombstone names none.
  void follow_upgrade(const Room& want, const std::string& address, const UpgradedRoom& upgraded);
  /// Writes one state event for the field last added to `change`;
  /// `link_key` names the other room of a space link.
  void set_state(const Room& want, StateField field, ResourceChange& change, std::string reason,
                 std::string link_key = "");
  /// Name, topic, avatar, join rule, history visibility, encryption (only
  /// ever turned on), protection and archive time.
  void diff_state_fields(const Room& want, const ObservedRoom& have, ResourceChange& change);
  /// One power-levels write, the observed event with thresholds, event levels
  /// and managed users' levels replaced; none when they already agree.
  void diff_power_levels(const Room& want, const ObservedRoom& have, ResourceChange& change);
  /// Adds missing m.space.child links, and the parent link of a room that
  /// exists already; never removes a link.
  void diff_links(const Room& want, const Room& now, ResourceChange& change);
  /// Orders a room's opening: its context message, then its encryption,
  /// then the invites. Clients show the message unflagged, and nobody is
  /// invited into a room that is to be encrypted but is not yet.
  void order_opening(ResourceChange& change);

  // Members (diff_members.cc).

  /// Invites desired members who are absent (a ban is an error; a member who
  /// left is re-invited as the policy says); kicks undesired members from
  /// council rooms and DMs only.
  void diff_members(const Room& want, const ObservedRoom& have, ResourceChange& change);
  /// Whether `user` can be invited by the createRoom of `want`, which this
  /// plan makes as `create`: a local account that exists or that this plan
  /// creates, in a room that is no DM and has no context message, while the
  /// createRoom has room.
  bool invited_with_creation(const Room& want, const Operation& create, const std::string& user) const;
  /// Clients show a room as a DM only if the user's m.direct lists it; only
  /// accounts on our server can have theirs written.
  void diff_direct(const Room& want, ResourceChange& change);
  /// Sends the room's once-message unless it was observed as sent.
  void diff_once_message(const Room& want, ResourceChange& change);

  const MatrixState& m_desired;
  const ObservedState& m_observed;
  const DiffOptions& m_options;
  // Views into the desired state and the options, which outlive the Differ;
  // hashed because they are only ever asked about one user, never walked.
  std::unordered_set<std::string_view> m_managed_users;
  std::unordered_set<std::string_view> m_local_users;  // our accounts (not linked accounts elsewhere)
  std::unordered_set<std::string_view> m_existing_users;   // accounts observed on the homeserver
  std::map<std::string, std::size_t> m_account_creations;  // user id → operation
  std::map<std::string, std::size_t> m_room_creations;     // room key → operation
  std::vector<std::string> m_status_changes;               // account keys to suspend or reactivate
  std::vector<std::string> m_unsuspendable;                // user ids the server cannot suspend
  std::vector<std::string> m_outdated_rooms;               // keys below the desired room version
  Plan m_plan;
};

}  // namespace model::diffing
