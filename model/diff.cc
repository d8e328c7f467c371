#include "model/diff.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <unordered_set>

#include "model/naming.h"

namespace model {

namespace {

std::string quote(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string date_text(std::int64_t ms_since_epoch) {
  using namespace std::chrono;
  const sys_days day = floor<days>(sys_time<milliseconds>(milliseconds(ms_since_epoch)));
  const year_month_day ymd(day);
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return text;
}

namespace {

FieldValue text(std::string value) { return TextValue{std::move(value)}; }

std::optional<FieldValue> optional_text(const std::optional<std::string>& value) {
  if (!value) {
    return std::nullopt;
  }
  return text(*value);
}

FieldValue level(int value) { return std::int64_t{value}; }

std::optional<FieldValue> optional_level(const int* value) {
  if (!value) {
    return std::nullopt;
  }
  return level(*value);
}

FieldValue join_rule_value(const Room& room) {
  return JoinRuleValue{room.join_rule,
                       room.join_rule == JoinRule::restricted ? room.allow_spaces : std::vector<std::string>{}};
}

bool is_council_or_dm(const std::string& key) {
  const RoomKeyKind kind = room_key_kind(key);
  return kind == RoomKeyKind::council || kind == RoomKeyKind::coordination;
}

// Orders rooms so that every room comes after its parent space, which must
// exist before the child's createRoom can name it in m.space.parent.
std::vector<const Room*> parents_first(const std::map<std::string, Room>& rooms) {
  std::vector<const Room*> order;
  order.reserve(rooms.size());
  std::unordered_set<const Room*> placed;
  std::function<void(const Room&, int)> place = [&](const Room& room, int depth) {
    if (placed.count(&room) || depth > static_cast<int>(rooms.size())) {
      return;
    }
    if (room.parent) {
      if (auto parent = rooms.find(room.parent->key); parent != rooms.end()) {
        place(parent->second, depth + 1);
      }
    }
    if (placed.insert(&room).second) {
      order.push_back(&room);
    }
  };
  for (const auto& [key, room] : rooms) {
    place(room, 0);
  }
  return order;
}

Operation make_operation(Operation::Kind kind, std::string room_key, std::string account_key = "",
                         std::string user_id = "") {
  Operation op;
  op.kind = kind;
  op.room_key = std::move(room_key);
  op.account_key = std::move(account_key);
  op.user_id = std::move(user_id);
  return op;
}

// Builds the plan; one instance per diff() call.
class Differ {
 public:
  Differ(const MatrixState& desired, const ObservedState& observed, const DiffOptions& options)
      : m_desired(desired), m_observed(observed), m_options(options) {
    m_managed_users.insert(options.bot_user_id);
    m_local_users.reserve(desired.accounts.size());
    m_managed_users.reserve(desired.accounts.size() + 1);
    for (const auto& [key, account] : desired.accounts) {
      m_local_users.insert(account.user_id);
      m_managed_users.insert(account.user_id);
      m_managed_users.insert(account.linked_accounts.begin(), account.linked_accounts.end());
    }
  }

  Plan run() {
    for (const auto& [key, account] : m_desired.accounts) {
      diff_account(account);
    }
    const std::vector<const Room*> order = parents_first(m_desired.rooms);
    // Pass 1: decide which rooms are created, so that pass 2 can make later
    // operations depend on those creations whatever order rooms come in.
    for (const Room* room : order) {
      plan_creation(*room);
    }
    for (const Room* room : order) {
      diff_room(*room);
    }
    for (const std::string& key : m_status_changes) {
      plan_status_change(m_desired.accounts.at(key));
    }
    if (!m_unsuspendable.empty()) {
      m_plan.warnings.push_back(unsuspendable_warning());
    }
    return std::move(m_plan);
  }

 private:
  std::size_t add_operation(Operation operation) {
    m_plan.operations.push_back(std::move(operation));
    return m_plan.operations.size() - 1;
  }

  void add_change(ResourceChange change) {
    if (change.action == ResourceChange::Action::error || !change.operations.empty()) {
      m_plan.changes.push_back(std::move(change));
    }
  }

  std::vector<std::size_t> account_dependency(const std::string& user_id) const {
    auto it = m_account_creations.find(user_id);
    return it == m_account_creations.end() ? std::vector<std::size_t>{} : std::vector<std::size_t>{it->second};
  }

  std::vector<std::size_t> room_dependency(const std::string& key) const {
    auto it = m_room_creations.find(key);
    return it == m_room_creations.end() ? std::vector<std::size_t>{} : std::vector<std::size_t>{it->second};
  }

  void diff_account(const Account& want) {
    ResourceChange change{account_address(want.key), ResourceChange::Action::update, {}, "", {}};
    auto found = m_observed.accounts.find(want.key);
    if (found == m_observed.accounts.end() && want.status == AccountStatus::suspended) {
      return;  // A deactivated person who never had an account needs none.
    }
    if (found == m_observed.accounts.end()) {
      change.action = ResourceChange::Action::create;
      change.reason = want.user_id + " does not exist on the homeserver";
      change.fields.push_back({"user_id", std::nullopt, text(want.user_id)});
      if (want.display_name) {
        change.fields.push_back({"display_name", std::nullopt, text(*want.display_name)});
      }
      if (want.avatar_url) {
        change.fields.push_back({"avatar_url", std::nullopt, text(*want.avatar_url)});
      }
      change.fields.push_back({"admin", std::nullopt, want.admin});
      Operation op = make_operation(Operation::Kind::create_account, "", want.key, want.user_id);
      op.reason = change.reason;
      std::size_t index = add_operation(op);
      m_account_creations[want.user_id] = index;
      change.operations.push_back(index);
      add_change(std::move(change));
      return;
    }
    const Account& have = found->second;
    if (want.display_name && want.display_name != have.display_name) {
      change.fields.push_back({"display_name", optional_text(have.display_name), text(*want.display_name)});
    }
    if (want.avatar_url && want.avatar_url != have.avatar_url) {
      change.fields.push_back({"avatar_url", optional_text(have.avatar_url), text(*want.avatar_url)});
    }
    if (want.admin != have.admin) {
      change.fields.push_back({"admin", have.admin, want.admin});
    }
    if (!change.fields.empty()) {
      change.reason = "the profile on the homeserver differs from the desired state";
      Operation op = make_operation(Operation::Kind::update_account, "", want.key, want.user_id);
      op.reason = change.reason;
      change.operations.push_back(add_operation(op));
    }
    if (want.status != have.status && m_options.manage_account_status) {
      if (want.status == AccountStatus::suspended && !m_observed.cannot_suspend.empty()) {
        // A suspension the server cannot carry out would be planned, "done"
        // and planned again every pass; the plan says so once instead.
        m_unsuspendable.push_back(want.user_id);
      } else {
        // Planned after the rooms (see run()): the suspension waits for the
        // demotions and kicks, so a recreated account regains nothing.
        m_status_changes.push_back(want.key);
      }
    }
    add_change(std::move(change));
  }

  std::string unsuspendable_warning() const {
    std::string users;
    for (const std::string& user : m_unsuspendable) {
      users += (users.empty() ? "" : ", ") + user;
    }
    return "cannot suspend " + users + ": " + m_observed.cannot_suspend +
           ". They are demoted and removed from councils and coordination rooms, but can still sign in. "
           "Set `deactivatedAccounts: deactivate` to deactivate such accounts instead, or move to a homeserver "
           "with Synapse's suspend API or `locked` flag";
  }

  void plan_status_change(const Account& want) {
    const bool suspend = want.status == AccountStatus::suspended;
    const std::string address = account_address(want.key);
    auto existing = std::find_if(m_plan.changes.begin(), m_plan.changes.end(),
                                 [&](const ResourceChange& c) { return c.address == address; });
    if (existing == m_plan.changes.end()) {
      m_plan.changes.push_back({address, ResourceChange::Action::update, {}, "", {}});
      existing = m_plan.changes.end() - 1;
    }
    ResourceChange& change = *existing;
    change.fields.push_back({"status", text(suspend ? "active" : "suspended"), text(suspend ? "suspended" : "active")});
    Operation op = make_operation(suspend ? Operation::Kind::suspend_account : Operation::Kind::reactivate_account, "",
                                  want.key, want.user_id);
    op.fields = {change.fields.back()};
    if (suspend) {
      change.action = ResourceChange::Action::suspend;
      change.reason = want.user_id + " is deactivated or no longer in the desired state: demoted, removed from "
                                     "councils and coordination rooms, then suspended (never erased)";
      for (std::size_t i = 0; i < m_plan.operations.size(); ++i) {
        const Operation& other = m_plan.operations[i];
        bool demotion = other.kind == Operation::Kind::set_state && other.field == StateField::power_levels;
        bool kick = other.kind == Operation::Kind::kick && other.user_id == want.user_id;
        if (demotion || kick) {
          op.depends_on.push_back(i);
        }
      }
    } else {
      change.reason = want.user_id + " is active again in the desired state";
    }
    op.reason = change.reason;
    change.operations.push_back(add_operation(op));
  }

  void plan_creation(const Room& want) {
    if (m_observed.rooms.count(want.key) || m_observed.alias_clashes.count(want.key)) {
      return;
    }
    Operation op = make_operation(Operation::Kind::create_room, want.key);
    if (want.parent) {
      op.depends_on = room_dependency(want.parent->key);
    }
    op.reason = want.alias + " does not exist on the homeserver";
    m_room_creations[want.key] = add_operation(op);
  }

  void diff_room(const Room& want) {
    const std::string address = room_address(want.key);
    if (auto clash = m_observed.alias_clashes.find(want.key); clash != m_observed.alias_clashes.end()) {
      add_change({address, ResourceChange::Action::error, {},
                  "alias " + want.alias + " belongs to room " + clash->second +
                      ", which has no mxctl marker; mxctl will not take it over",
                  {}});
      return;
    }
    auto found = m_observed.rooms.find(want.key);
    if (found == m_observed.rooms.end()) {
      diff_new_room(want, address);
      return;
    }
    const ObservedRoom& have = found->second;
    if (have.marker_key != want.key) {
      add_change({address, ResourceChange::Action::error, {},
                  "room " + have.room_id + " is marked as \"" + have.marker_key + "\", not \"" + want.key +
                      "\"; mxctl will not change it",
                  {}});
      return;
    }
    if (have.room.kind != want.kind) {
      add_change({address, ResourceChange::Action::error, {},
                  "room " + have.room_id + " is a " + to_string(have.room.kind) + " on the homeserver but a " +
                      to_string(want.kind) + " in the desired state; a room's type cannot change",
                  {}});
      return;
    }
    ResourceChange change{address, ResourceChange::Action::update, {}, "differs from the desired state", {}};
    diff_state_fields(want, have, change);
    diff_power_levels(want, have, change);
    diff_links(want, have.room, change);
    diff_members(want, have, change);
    diff_once_message(want, change);
    diff_direct(want, change);
    add_change(std::move(change));
  }

  void diff_new_room(const Room& want, const std::string& address) {
    ResourceChange change{address, ResourceChange::Action::create, {}, want.alias + " does not exist on the homeserver",
                          {m_room_creations.at(want.key)}};
    auto add = [&](std::string name, FieldValue value) {
      change.fields.push_back({std::move(name), std::nullopt, std::move(value)});
    };
    add("alias", text(want.alias));
    add("kind", text(to_string(want.kind)));
    add("name", text(want.name));
    if (!want.topic.empty()) {
      add("topic", text(want.topic));
    }
    if (want.avatar_url) {
      add("avatar_url", text(*want.avatar_url));
    }
    add("room_version", text(want.room_version));
    add("join_rule", join_rule_value(want));
    add("history_visibility", text(to_string(want.history_visibility)));
    add("encrypted", want.encrypted);
    if (want.parent) {
      add("parent", text(want.parent->key));
    }
    for (const auto& [user, user_level] : want.power_levels.users) {
      add("power_levels.users[" + quote(user) + "]", level(user_level));
    }
    Room empty;
    diff_links(want, empty, change);
    ObservedRoom nobody;
    diff_members(want, nobody, change);
    diff_once_message(want, change);
    diff_direct(want, change);
    add_change(std::move(change));
  }

  void set_state(const Room& want, StateField field, ResourceChange& change, std::string reason,
                 std::string link_key = "") {
    Operation op = make_operation(Operation::Kind::set_state, want.key);
    op.field = field;
    op.link_key = std::move(link_key);
    op.depends_on = room_dependency(want.key);
    if (!op.link_key.empty()) {
      for (std::size_t dep : room_dependency(op.link_key)) {
        op.depends_on.push_back(dep);
      }
    }
    op.reason = std::move(reason);
    if (!change.fields.empty()) {
      op.fields = {change.fields.back()};
    }
    change.operations.push_back(add_operation(op));
  }

  void diff_state_fields(const Room& want, const ObservedRoom& have, ResourceChange& change) {
    const Room& now = have.room;
    if (want.name != now.name) {
      change.fields.push_back({"name", text(now.name), text(want.name)});
      set_state(want, StateField::name, change, "the name differs");
    }
    if (want.topic != now.topic) {
      change.fields.push_back({"topic", text(now.topic), text(want.topic)});
      set_state(want, StateField::topic, change, "the topic differs");
    }
    if (want.avatar_url && want.avatar_url != now.avatar_url) {
      change.fields.push_back({"avatar_url", optional_text(now.avatar_url), text(*want.avatar_url)});
      set_state(want, StateField::avatar, change, "the avatar differs");
    }
    if (want.join_rule != now.join_rule || want.allow_spaces != now.allow_spaces) {
      change.fields.push_back({"join_rule", join_rule_value(now), join_rule_value(want)});
      set_state(want, StateField::join_rules, change, "the join rule differs");
    }
    if (want.history_visibility != now.history_visibility) {
      change.fields.push_back({"history_visibility", text(to_string(now.history_visibility)),
                               text(to_string(want.history_visibility))});
      set_state(want, StateField::history_visibility, change, "the history visibility differs");
    }
    if (want.encrypted && !now.encrypted) {
      change.fields.push_back({"encrypted", false, true});
      set_state(want, StateField::encryption, change, "the room must be end-to-end encrypted");
    } else if (!want.encrypted && now.encrypted) {
      add_change({change.address, ResourceChange::Action::error, {{"encrypted", true, false}},
                  "room " + have.room_id + " is encrypted; encryption cannot be turned off once on", {}});
    }
    if (want.protect != now.protect) {
      change.fields.push_back({"protect", now.protect, want.protect});
      set_state(want, StateField::marker, change,
                want.protect ? "the room's marker records its protection" : "the room is no longer protected");
    }
    if (want.archived_at != now.archived_at) {
      auto day = [](const std::optional<std::int64_t>& at) -> std::optional<FieldValue> {
        return at ? std::optional<FieldValue>(DayValue{*at}) : std::nullopt;
      };
      change.fields.push_back({"archived_at", day(now.archived_at), day(want.archived_at)});
      set_state(want, StateField::archive_record, change,
                want.archived_at ? "the archive time is recorded in the room" : "the room is no longer archived");
    }
  }

  void diff_power_levels(const Room& want, const ObservedRoom& have, ResourceChange& change) {
    const PowerLevels& now = have.room.power_levels;
    const PowerLevels& target = want.power_levels;
    const std::size_t first = change.fields.size();  // the first field this adds
    // Copied only on the first difference: a converged room (nearly every
    // room of a pass) must not copy its user and event maps to compare them.
    std::optional<PowerLevels> merged;
    auto edit = [&]() -> PowerLevels& {
      if (!merged) {
        merged = now;
      }
      return *merged;
    };
    auto threshold = [&](const char* name, int PowerLevels::*field) {
      if (now.*field != target.*field) {
        change.fields.push_back({std::string("power_levels.") + name, level(now.*field), level(target.*field)});
        edit().*field = target.*field;
      }
    };
    threshold("ban", &PowerLevels::ban);
    threshold("invite", &PowerLevels::invite);
    threshold("kick", &PowerLevels::kick);
    threshold("redact", &PowerLevels::redact);
    threshold("events_default", &PowerLevels::events_default);
    threshold("state_default", &PowerLevels::state_default);
    threshold("users_default", &PowerLevels::users_default);
    for (const auto& [type, event_level] : target.events) {
      auto it = now.events.find(type);
      if (it == now.events.end() || it->second != event_level) {
        change.fields.push_back({"power_levels.events[" + quote(type) + "]",
                                 optional_level(it == now.events.end() ? nullptr : &it->second), level(event_level)});
        edit().events[type] = event_level;
      }
    }
    // Users: only those mxctl manages (its accounts, their linked accounts,
    // the bot, and anyone the desired state names). Others keep their level.
    // A user named by neither side has no change, so walking the two sorted
    // maps together visits, in the same order, every user the union of
    // managed and desired users could change, without touching every
    // managed user for every room.
    auto now_it = now.users.begin();
    auto target_it = target.users.begin();
    while (now_it != now.users.end() || target_it != target.users.end()) {
      // One comparison per step: < 0 only the observed side names the user,
      // > 0 only the desired side, 0 both.
      const int order = now_it == now.users.end()         ? 1
                        : target_it == target.users.end() ? -1
                                                          : now_it->first.compare(target_it->first);
      const bool take_now = order <= 0;
      const bool take_target = order >= 0;
      const std::string& user = take_now ? now_it->first : target_it->first;
      const int* before = take_now ? &now_it->second : nullptr;
      const int* after = take_target ? &target_it->second : nullptr;
      if (take_now) {
        ++now_it;
      }
      if (take_target) {
        ++target_it;
      }
      if (!after && !m_managed_users.count(user)) {
        continue;  // Someone else's level, not ours to change.
      }
      if (before && after && *before == *after) {
        continue;
      }
      change.fields.push_back(
          {"power_levels.users[" + quote(user) + "]", optional_level(before), optional_level(after)});
      if (after) {
        edit().users[user] = *after;
      } else {
        edit().users.erase(user);
      }
    }
    // No copy means no difference: nothing to write.
    if (merged && *merged != now) {
      Operation op = make_operation(Operation::Kind::set_state, want.key);
      op.field = StateField::power_levels;
      op.power_levels = std::move(*merged);
      op.reason = "power levels differ from the policy";
      // The audit log keeps every level that changed.
      op.fields.assign(change.fields.begin() + static_cast<std::ptrdiff_t>(first), change.fields.end());
      change.operations.push_back(add_operation(op));
    }
  }

  void diff_links(const Room& want, const Room& now, ResourceChange& change) {
    for (const SpaceLink& child : want.children) {
      bool present = std::any_of(now.children.begin(), now.children.end(),
                                 [&](const SpaceLink& link) { return link.key == child.key; });
      if (!present) {
        change.fields.push_back({"children[" + quote(child.key) + "]", std::nullopt, WordValue{"linked"}});
        set_state(want, StateField::space_child, change, child.key + " belongs in this space", child.key);
      }
    }
    // A new room gets its parent link in createRoom's initial_state.
    bool created_here = m_room_creations.count(want.key) > 0;
    if (want.parent && !created_here && (!now.parent || now.parent->key != want.parent->key)) {
      change.fields.push_back({"parent", now.parent ? std::optional(text(now.parent->key)) : std::nullopt,
                               text(want.parent->key)});
      set_state(want, StateField::space_parent, change, "this room belongs in " + want.parent->key,
                want.parent->key);
    }
  }

  void diff_members(const Room& want, const ObservedRoom& have, ResourceChange& change) {
    const bool council_or_dm = is_council_or_dm(want.key);
    const bool reinvite = council_or_dm ? m_options.reinvite_to_council_rooms : m_options.reinvite_to_community_rooms;
    // Both sides are sorted by MXID: one walk along each finds every member
    // without a search per member.
    auto it = have.members.begin();
    for (const std::string& user : want.members) {
      if (user == m_options.bot_user_id) {
        continue;
      }
      int order = 1;
      while (it != have.members.end() && (order = it->first.compare(user)) < 0) {
        ++it;
      }
      if (it != have.members.end() && order == 0) {
        const MemberState& state = it->second;
        if (state.membership == Membership::join || state.membership == Membership::invite) {
          continue;
        }
        if (state.membership == Membership::ban) {
          add_change({change.address, ResourceChange::Action::error, {},
                      user + " is banned from room " + have.room_id + "; mxctl does not lift bans", {}});
          continue;
        }
        if (state.membership == Membership::leave && state.by_self && !reinvite) {
          continue;  // They chose to leave; the policy says to respect that.
        }
      }
      change.fields.push_back({"members[" + quote(user) + "]", std::nullopt, WordValue{"invited"}});
      Operation op = make_operation(Operation::Kind::invite, want.key, "", user);
      op.depends_on = room_dependency(want.key);
      for (std::size_t dep : account_dependency(user)) {
        op.depends_on.push_back(dep);
      }
      op.reason = user + " is a member in the desired state";
      change.operations.push_back(add_operation(op));
    }
    if (!council_or_dm) {
      return;  // Community rooms may hold people members invited; leave them be.
    }
    auto wanted = want.members.begin();
    for (const auto& [user, state] : have.members) {
      int order = 1;
      while (wanted != want.members.end() && (order = wanted->compare(user)) < 0) {
        ++wanted;
      }
      bool present = state.membership == Membership::join || state.membership == Membership::invite;
      if (!present || user == m_options.bot_user_id || (wanted != want.members.end() && order == 0)) {
        continue;
      }
      change.fields.push_back({"members[" + quote(user) + "]", WordValue{to_string(state.membership)}, std::nullopt});
      Operation op = make_operation(Operation::Kind::kick, want.key, "", user);
      op.reason = user + " is not a member in the desired state";
      change.operations.push_back(add_operation(op));
    }
  }

  // Clients show a room as a DM only if the user's m.direct lists it; only
  // accounts on our server can have theirs written.
  void diff_direct(const Room& want, ResourceChange& change) {
    if (!want.is_direct) {
      return;
    }
    for (const std::string& user : want.members) {
      if (!m_local_users.count(user) || m_observed.directs_set.count({want.key, user})) {
        continue;
      }
      change.fields.push_back({"direct[" + quote(user) + "]", std::nullopt, WordValue{"listed"}});
      Operation op = make_operation(Operation::Kind::set_direct, want.key, "", user);
      op.depends_on = room_dependency(want.key);
      for (std::size_t dep : account_dependency(user)) {
        op.depends_on.push_back(dep);
      }
      op.reason = "clients show the room as a direct chat only if " + user + "'s m.direct lists it";
      change.operations.push_back(add_operation(op));
    }
  }

  void diff_once_message(const Room& want, ResourceChange& change) {
    if (!want.once_message || m_observed.messages_sent.count(want.key)) {
      return;
    }
    change.fields.push_back({"once_message", std::nullopt, text(want.once_message->body)});
    Operation op = make_operation(Operation::Kind::send_message, want.key);
    op.depends_on = room_dependency(want.key);
    op.reason = "the context message has not been sent";
    change.operations.push_back(add_operation(op));
  }

  const MatrixState& m_desired;
  const ObservedState& m_observed;
  const DiffOptions& m_options;
  // Views into the desired state and the options, which outlive the Differ;
  // hashed because they are only ever asked about one user, never walked.
  std::unordered_set<std::string_view> m_managed_users;
  std::unordered_set<std::string_view> m_local_users;  // our accounts (not linked accounts elsewhere)
  std::map<std::string, std::size_t> m_account_creations;  // user id → operation
  std::map<std::string, std::size_t> m_room_creations;     // room key → operation
  std::vector<std::string> m_status_changes;               // account keys to suspend or reactivate
  std::vector<std::string> m_unsuspendable;                // user ids the server cannot suspend
  Plan m_plan;
};

}  // namespace

Plan diff(const MatrixState& desired, const ObservedState& observed, const DiffOptions& options) {
  return Differ(desired, observed, options).run();
}

}  // namespace model
