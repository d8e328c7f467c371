#include "adapters/homeserver/room_state_reader.h"

#include <algorithm>
#include <set>
#include <tuple>

namespace adapters {

namespace {

// The spec's room version when m.room.create names none. A std::string
// constant also sidesteps GCC 12's false -Wrestrict on literal assignment.
const std::string k_default_room_version = "1";

int level_value(const nlohmann::json& value, int fallback) {
  if (value.is_number_integer()) {
    return value.get<int>();
  }
  if (value.is_string()) {
    try {
      return std::stoi(value.get<std::string>());
    } catch (const std::exception&) {
      return fallback;
    }
  }
  return fallback;
}

model::JoinRule parse_join_rule(const std::string& text) {
  if (text == "restricted" || text == "knock_restricted") {
    return model::JoinRule::restricted;
  }
  if (text == "public") {
    return model::JoinRule::public_;
  }
  return model::JoinRule::invite;
}

model::HistoryVisibility parse_history(const std::string& text) {
  if (text == "invited") {
    return model::HistoryVisibility::invited;
  }
  if (text == "joined") {
    return model::HistoryVisibility::joined;
  }
  if (text == "world_readable") {
    return model::HistoryVisibility::world_readable;
  }
  return model::HistoryVisibility::shared;
}

model::Membership parse_membership(const std::string& text) {
  if (text == "join") {
    return model::Membership::join;
  }
  if (text == "invite") {
    return model::Membership::invite;
  }
  if (text == "ban") {
    return model::Membership::ban;
  }
  if (text == "knock") {
    return model::Membership::knock;
  }
  return model::Membership::leave;
}

std::string key_or_id(const std::map<std::string, std::string>& key_of, const std::string& room_id) {
  auto it = key_of.find(room_id);
  return it == key_of.end() ? room_id : it->second;
}

std::string string_field(const nlohmann::json& content, const char* name) {
  auto it = content.find(name);
  return it != content.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The strings of an array field (`via`); content is what people wrote, so
// anything else in it is passed over, never thrown over.
std::vector<std::string> string_list(const nlohmann::json& content, const char* name) {
  std::vector<std::string> out;
  if (auto it = content.find(name); it != content.end() && it->is_array()) {
    for (const nlohmann::json& item : *it) {
      if (item.is_string()) {
        out.push_back(item.get<std::string>());
      }
    }
  }
  return out;
}

// The event's string field `name`, or nullptr: a view into the event, so
// reading 150,000 member events copies no type or state key.
const std::string* string_ref(const nlohmann::json& object, const char* name) {
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
}

bool is_room_id(const std::string& text) { return !text.empty() && text.front() == '!'; }

void sort_children(model::Room& room) {
  std::sort(room.children.begin(), room.children.end(),
            [](const model::SpaceLink& a, const model::SpaceLink& b) { return a.key < b.key; });
}

// The parent a room answers to when it names several: a managed space
// (known by key) before a room known only by id, such as a space that was
// upgraded since; then a canonical link; then the lowest key. Whatever order
// the server lists the events in, the choice is the same.
void choose_parent(model::ObservedRoom& observed) {
  const model::SpaceLink* best = nullptr;
  auto rank = [](const model::SpaceLink& link) { return std::make_tuple(is_room_id(link.key), !link.canonical); };
  for (const model::SpaceLink& link : observed.parents) {
    if (best == nullptr || rank(link) < rank(*best) || (rank(link) == rank(*best) && link.key < best->key)) {
      best = &link;
    }
  }
  observed.room.parent = best ? std::optional<model::SpaceLink>(*best) : std::nullopt;
}

// The keys of power levels content that PowerLevels has no field for, kept
// as text so that a write can give them back as the server had them.
std::string unmanaged_keys(const nlohmann::json& content) {
  static const std::set<std::string> k_managed = {
      "ban", "invite", "kick", "redact", "events_default", "state_default", "users_default", "events", "users",
      "notifications"};
  nlohmann::json unmanaged = nlohmann::json::object();
  for (const auto& [key, value] : content.items()) {
    if (key == "notifications" && value.is_object()) {
      for (const auto& [notification, level] : value.items()) {
        if (notification != "room") {
          unmanaged["notifications"][notification] = level;
        }
      }
    } else if (!k_managed.count(key)) {
      unmanaged[key] = value;
    }
  }
  return unmanaged.empty() ? std::string() : unmanaged.dump();
}

}  // namespace

model::PowerLevels parse_power_levels(const nlohmann::json& content) {
  model::PowerLevels levels;
  if (!content.is_object()) {
    return levels;
  }
  auto get = [&](const char* name, int fallback) {
    auto it = content.find(name);
    return it == content.end() ? fallback : level_value(*it, fallback);
  };
  levels.ban = get("ban", 50);
  levels.invite = get("invite", 0);
  levels.kick = get("kick", 50);
  levels.redact = get("redact", 50);
  levels.events_default = get("events_default", 0);
  levels.state_default = get("state_default", 50);
  levels.users_default = get("users_default", 0);
  if (auto it = content.find("events"); it != content.end() && it->is_object()) {
    for (const auto& [type, level] : it->items()) {
      levels.events[type] = level_value(level, levels.state_default);
    }
  }
  if (auto it = content.find("users"); it != content.end() && it->is_object()) {
    for (const auto& [user, level] : it->items()) {
      levels.users[user] = level_value(level, levels.users_default);
    }
  }
  if (auto it = content.find("notifications"); it != content.end() && it->is_object()) {
    levels.notifications_room = level_value(it->value("room", nlohmann::json(50)), 50);
  }
  levels.unmanaged = unmanaged_keys(content);
  return levels;
}

RoomStateReader::RoomStateReader(std::string room_id, const std::map<std::string, std::string>& key_of,
                                 const model::Settings& settings)
    : m_key_of(key_of), m_settings(settings), m_archive_type(settings.marker_event_type + ".archive") {
  m_observed.room_id = std::move(room_id);
  m_observed.room.room_version = k_default_room_version;
  // Without an m.room.guest_access event guests may not join.
  m_observed.room.guests_forbidden = true;
}

void RoomStateReader::add(const nlohmann::json& event) {
  if (!event.is_object()) {
    return;
  }
  auto content_it = event.find("content");
  if (content_it == event.end() || !content_it->is_object()) {
    return;
  }
  static const std::string k_none;
  const std::string* type_ref = string_ref(event, "type");
  const std::string* state_key_ref = string_ref(event, "state_key");
  const std::string& type = type_ref ? *type_ref : k_none;
  const std::string& state_key = state_key_ref ? *state_key_ref : k_none;
  const nlohmann::json& content = *content_it;
  model::Room& room = m_observed.room;
  if (type == "m.room.member") {
    model::MemberState member;
    member.membership = parse_membership(string_field(content, "membership"));
    const std::string* sender = string_ref(event, "sender");
    member.by_self = sender ? *sender == state_key : state_key.empty();
    if (member.membership == model::Membership::join || member.membership == model::Membership::invite) {
      room.members.insert(state_key);
    }
    m_observed.members[state_key] = member;
  } else if (type == m_settings.marker_event_type && state_key.empty()) {
    if (string_field(content, "instance") == m_settings.instance) {
      m_observed.marker_key = string_field(content, "key");
      // Only `true` protects: markers of rooms made before carry no flag.
      auto protect = content.find("protect");
      room.protect = protect != content.end() && protect->is_boolean() && protect->get<bool>();
    }
  } else if (type == m_archive_type && state_key.empty()) {
    if (content.contains("archived_at") && content["archived_at"].is_number_integer()) {
      room.archived_at = content["archived_at"].get<std::int64_t>();
    }
  } else if (type == "m.room.create") {
    room.kind = string_field(content, "type") == "m.space" ? model::RoomKind::space : model::RoomKind::room;
    std::string version = string_field(content, "room_version");
    room.room_version = version.empty() ? k_default_room_version : version;
    if (auto predecessor = content.find("predecessor"); predecessor != content.end() && predecessor->is_object()) {
      m_observed.predecessor = string_field(*predecessor, "room_id");
    }
  } else if (type == "m.room.tombstone" && state_key.empty()) {
    // Empty content is how state is taken back; anything else closes the
    // room, whether or not it names a usable replacement.
    if (!content.empty()) {
      m_observed.replacement_room = string_field(content, "replacement_room");
    }
  } else if (type == "m.room.name") {
    room.name = string_field(content, "name");
  } else if (type == "m.room.topic") {
    room.topic = string_field(content, "topic");
  } else if (type == "m.room.avatar") {
    std::string url = string_field(content, "url");
    room.avatar_url = url.empty() ? std::nullopt : std::optional<std::string>(url);
  } else if (type == "m.room.canonical_alias") {
    room.alias = string_field(content, "alias");
  } else if (type == "m.room.join_rules") {
    room.join_rule = parse_join_rule(string_field(content, "join_rule"));
    room.allow_spaces.clear();
    if (auto allow = content.find("allow"); allow != content.end() && allow->is_array()) {
      for (const nlohmann::json& entry : *allow) {
        if (entry.is_object() && string_field(entry, "type") == "m.room_membership") {
          room.allow_spaces.push_back(key_or_id(m_key_of, string_field(entry, "room_id")));
        }
      }
    }
  } else if (type == "m.room.history_visibility") {
    room.history_visibility = parse_history(string_field(content, "history_visibility"));
  } else if (type == "m.room.guest_access") {
    room.guests_forbidden = string_field(content, "guest_access") != "can_join";
  } else if (type == "m.room.encryption") {
    // Synapse accepts an empty content here; clients ignore it, so only an
    // algorithm counts as "encrypted".
    room.encrypted = !string_field(content, "algorithm").empty();
  } else if (type == "m.room.power_levels") {
    room.power_levels = parse_power_levels(content);
  } else if (type == "m.space.child") {
    // An m.space.child without `via` is the spec's way of removing a child.
    if (auto via = string_list(content, "via"); !via.empty()) {
      room.children.push_back({key_or_id(m_key_of, state_key), std::move(via), true});
    }
  } else if (type == "m.space.parent") {
    if (auto via = string_list(content, "via"); !via.empty()) {
      auto canonical = content.find("canonical");
      m_observed.parents.push_back(model::SpaceLink{
          key_or_id(m_key_of, state_key), std::move(via),
          canonical != content.end() && canonical->is_boolean() && canonical->get<bool>()});
    }
  }
}

model::ObservedRoom RoomStateReader::finish() && {
  sort_children(m_observed.room);
  choose_parent(m_observed);
  m_observed.room.key = m_observed.marker_key;
  return std::move(m_observed);
}

model::ObservedRoom parse_room_state(const std::string& room_id, const nlohmann::json& state_events,
                                     const std::map<std::string, std::string>& key_of,
                                     const model::Settings& settings) {
  RoomStateReader reader(room_id, key_of, settings);
  // Without a power levels event the spec's defaults differ from those of an
  // event with missing keys; a managed room always has one, so this only
  // matters for rooms we then refuse to touch anyway.
  if (state_events.is_array()) {
    for (const nlohmann::json& event : state_events) {
      reader.add(event);
    }
  }
  return std::move(reader).finish();
}

void resolve_room_links(model::ObservedRoom& observed, const std::map<std::string, std::string>& key_of) {
  model::Room& room = observed.room;
  auto resolve = [&](std::string& key) {
    if (is_room_id(key)) {
      if (auto it = key_of.find(key); it != key_of.end()) {
        key = it->second;
        return true;
      }
    }
    return false;
  };
  for (std::string& space : room.allow_spaces) {
    resolve(space);
  }
  bool child_renamed = false;
  for (model::SpaceLink& child : room.children) {
    child_renamed = resolve(child.key) || child_renamed;
  }
  if (child_renamed) {
    sort_children(room);
  }
  bool parent_renamed = false;
  for (model::SpaceLink& parent : observed.parents) {
    parent_renamed = resolve(parent.key) || parent_renamed;
  }
  if (parent_renamed) {
    choose_parent(observed);
  }
}

}  // namespace adapters
