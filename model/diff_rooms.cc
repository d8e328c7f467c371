// A room's own part of the plan: its creation, its state fields, its power
// levels and its space links.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "model/differ.h"
#include "model/naming.h"

namespace model::diffing {

void Differ::plan_creation(const Room& want) {
  if (m_observed.rooms.count(want.key) || m_observed.alias_clashes.count(want.key) ||
      m_observed.upgraded.count(want.key)) {
    return;
  }
  Operation op = make_operation(Operation::Kind::create_room, want.key);
  if (want.parent) {
    op.depends_on = room_dependency(want.parent->key);
  }
  op.reason = want.alias + " does not exist on the homeserver";
  m_room_creations[want.key] = add_operation(op);
}

void Differ::diff_room(const Room& want) {
  const std::string address = room_address(want.key);
  if (auto clash = m_observed.alias_clashes.find(want.key); clash != m_observed.alias_clashes.end()) {
    add_change({address, ResourceChange::Action::error, {},
                "alias " + want.alias + " belongs to room " + clash->second +
                    ", which has no mxctl marker; mxctl will not take it over",
                {}});
    return;
  }
  auto found = m_observed.rooms.find(want.key);
  if (auto upgraded = m_observed.upgraded.find(want.key);
      found == m_observed.rooms.end() && upgraded != m_observed.upgraded.end()) {
    follow_upgrade(want, address, upgraded->second);
    return;
  }
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
  if (is_older_version(have.room.room_version, want.room_version)) {
    if (m_options.upgrade_rooms) {
      plan_upgrade(want, have, address);
      return;  // the rest is for the new room, in the next pass
    }
    m_outdated_rooms.push_back(want.key);
  }
  ResourceChange change{address, ResourceChange::Action::update, {}, "differs from the desired state", {}};
  // The message first: a room left half-made is completed in the order it
  // is made in.
  diff_once_message(want, change);
  diff_state_fields(want, have, change);
  diff_power_levels(want, have, change);
  diff_links(want, have.room, change);
  diff_members(want, have, change);
  diff_direct(want, change);
  order_opening(change);
  add_change(std::move(change));
}

// Spec room versions are decimal numbers; anything else (an experimental
// version) is never taken for older, so mxctl never "upgrades" to a lesser one.
bool is_older_version(const std::string& observed, const std::string& desired) {
  auto number = [](const std::string& version) -> std::optional<long> {
    if (version.empty() || version.size() > 9 ||
        !std::all_of(version.begin(), version.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return std::nullopt;
    }
    return std::stol(version);
  };
  const std::optional<long> have = number(observed);
  const std::optional<long> want = number(desired);
  return have && want && *have < *want;
}

void Differ::plan_upgrade(const Room& want, const ObservedRoom& have, const std::string& address) {
  ResourceChange change{address, ResourceChange::Action::update,
                        {{"room_version", text(have.room.room_version), text(want.room_version)}},
                        "the room version is older than the desired one",
                        {}};
  Operation upgrade = make_operation(Operation::Kind::upgrade_room, want.key);
  upgrade.reason = "room " + have.room_id + " is version " + have.room.room_version + ", the desired state asks for " +
                   want.room_version;
  upgrade.fields = change.fields;
  const std::size_t index = add_operation(upgrade);
  change.operations.push_back(index);
  // The homeserver copies neither the marker nor the space links; the marker
  // goes first, so a crash right after leaves a room mxctl recognises.
  Operation marker = make_operation(Operation::Kind::set_state, want.key);
  marker.field = StateField::marker;
  marker.depends_on = {index};
  marker.reason = "the new room carries the ownership marker";
  change.operations.push_back(add_operation(marker));
  add_change(std::move(change));
}

void Differ::follow_upgrade(const Room& want, const std::string& address, const UpgradedRoom& upgraded) {
  const std::string& replacement = upgraded.replacement_room;
  const bool names_a_room = replacement.size() > 1 && replacement.size() <= 255 && replacement.front() == '!' &&
                            std::all_of(replacement.begin(), replacement.end(),
                                        [](char c) { return c > ' ' && c < 0x7f; });
  if (!names_a_room) {
    add_change({address, ResourceChange::Action::error, {},
                "room " + upgraded.room_id +
                    " was closed by a tombstone that names no replacement room; mxctl will not guess which room is " +
                    want.key + " now",
                {}});
    return;
  }
  if (upgraded.disowned) {
    add_change({address, ResourceChange::Action::error, {},
                "room " + upgraded.room_id + " was closed by a tombstone naming " + replacement +
                    ", which does not name it as its predecessor (or carries another marker); mxctl will not take "
                    "it over",
                {}});
    return;
  }
  ResourceChange change{address, ResourceChange::Action::update,
                        {{"room_id", text(upgraded.room_id), text(replacement)}},
                        "room " + upgraded.room_id + " was upgraded to " + replacement,
                        {}};
  Operation join = make_operation(Operation::Kind::join_replacement, want.key);
  join.room_id = replacement;
  join.reason = "mxctl joins the replacement room to take it over (marker, links, members) in the next pass";
  join.fields = change.fields;
  change.operations.push_back(add_operation(join));
  add_change(std::move(change));
}

void Differ::diff_new_room(const Room& want, const std::string& address) {
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
  if (want.guests_forbidden) {
    add("guest_access", text("forbidden"));
  }
  add("encrypted", want.encrypted);
  if (want.parent) {
    add("parent", text(want.parent->key));
  }
  for (const auto& [user, user_level] : want.power_levels.users) {
    add("power_levels.users[" + quote(user) + "]", level(user_level));
  }
  Room empty;
  diff_links(want, empty, change);
  diff_once_message(want, change);
  if (encrypted_after_message(want)) {
    Operation op = make_operation(Operation::Kind::set_state, want.key);
    op.field = StateField::encryption;
    op.depends_on = room_dependency(want.key);
    op.reason = "encryption follows the context message, which clients would flag in an encrypted room";
    op.fields = {{"encrypted", std::nullopt, true}};
    change.operations.push_back(add_operation(op));
  }
  ObservedRoom nobody;
  diff_members(want, nobody, change);
  diff_direct(want, change);
  order_opening(change);
  add_change(std::move(change));
}

void Differ::order_opening(ResourceChange& change) {
  std::optional<std::size_t> message;
  std::optional<std::size_t> encryption;
  for (std::size_t index : change.operations) {
    const Operation& op = m_plan.operations[index];
    if (op.kind == Operation::Kind::send_message) {
      message = index;
    } else if (op.kind == Operation::Kind::set_state && op.field == StateField::encryption) {
      encryption = index;
    }
  }
  for (std::size_t index : change.operations) {
    Operation& op = m_plan.operations[index];
    const bool invite = op.kind == Operation::Kind::invite;
    if (message && (invite || index == encryption)) {
      op.depends_on.push_back(*message);
    }
    if (encryption && invite) {
      op.depends_on.push_back(*encryption);
    }
  }
}

void Differ::set_state(const Room& want, StateField field, ResourceChange& change, std::string reason,
                       std::string link_key) {
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

void Differ::diff_state_fields(const Room& want, const ObservedRoom& have, ResourceChange& change) {
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
  const bool allowed_space_pending =
      std::any_of(want.allow_spaces.begin(), want.allow_spaces.end(),
                  [&](const std::string& space) { return m_observed.upgraded.count(space) > 0; });
  // A space being taken over has no room id yet: an allow list written now
  // would leave it out and lock its members out.
  if ((want.join_rule != now.join_rule || want.allow_spaces != now.allow_spaces) && !allowed_space_pending) {
    change.fields.push_back({"join_rule", join_rule_value(now), join_rule_value(want)});
    set_state(want, StateField::join_rules, change, "the join rule differs");
  }
  if (want.history_visibility != now.history_visibility) {
    change.fields.push_back({"history_visibility", text(to_string(now.history_visibility)),
                             text(to_string(want.history_visibility))});
    set_state(want, StateField::history_visibility, change, "the history visibility differs");
  }
  if (want.guests_forbidden && !now.guests_forbidden) {
    change.fields.push_back({"guest_access", text("can_join"), text("forbidden")});
    set_state(want, StateField::guest_access, change, "guests may join; nothing should let them in");
  }
  if (want.encrypted && !now.encrypted) {
    change.fields.push_back({"encrypted", false, true});
    set_state(want, StateField::encryption, change, "the room must be end-to-end encrypted");
  } else if (!want.encrypted && now.encrypted) {
    add_change({change.address, ResourceChange::Action::error, {{"encrypted", true, false}},
                "room " + have.room_id + " is encrypted; encryption cannot be turned off once on", {}});
  }
  if (have.marker_missing) {
    change.fields.push_back({"marker", std::nullopt, text(want.key)});
    set_state(want, StateField::marker, change,
              "room " + have.room_id + " replaces upgraded room " + have.predecessor + "; the marker moves to it");
  } else if (want.protect != now.protect) {
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

void Differ::diff_power_levels(const Room& want, const ObservedRoom& have, ResourceChange& change) {
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

void Differ::diff_links(const Room& want, const Room& now, ResourceChange& change) {
  // An upgraded space keeps its children's old rooms listed (the homeserver
  // copies m.space.child); rooms replaced since are withdrawn.
  for (const SpaceLink& child : now.children) {
    if (!m_observed.retired_rooms.count(child.key)) {
      continue;
    }
    change.fields.push_back({"children[" + quote(child.key) + "]", WordValue{"linked"}, std::nullopt});
    Operation op = make_operation(Operation::Kind::set_state, want.key);
    op.field = StateField::retired_child;
    op.room_id = child.key;
    op.depends_on = room_dependency(want.key);
    op.reason = child.key + " was upgraded; its replacement is linked instead";
    op.fields = {change.fields.back()};
    change.operations.push_back(add_operation(op));
  }
  // Links to a room being taken over wait for its room id (next pass).
  for (const SpaceLink& child : want.children) {
    if (m_observed.upgraded.count(child.key)) {
      continue;
    }
    bool present = std::any_of(now.children.begin(), now.children.end(),
                               [&](const SpaceLink& link) { return link.key == child.key; });
    if (!present) {
      change.fields.push_back({"children[" + quote(child.key) + "]", std::nullopt, WordValue{"linked"}});
      set_state(want, StateField::space_child, change, child.key + " belongs in this space", child.key);
    }
  }
  // A new room gets its parent link in createRoom's initial_state.
  bool created_here = m_room_creations.count(want.key) > 0;
  if (want.parent && !created_here && !m_observed.upgraded.count(want.parent->key) &&
      (!now.parent || now.parent->key != want.parent->key)) {
    change.fields.push_back({"parent", now.parent ? std::optional(text(now.parent->key)) : std::nullopt,
                             text(want.parent->key)});
    set_state(want, StateField::space_parent, change, "this room belongs in " + want.parent->key,
              want.parent->key);
  }
}

}  // namespace model::diffing
