#include "adapters/room_events.h"

#include <algorithm>

#include "adapters/matrix_state_json.h"
#include "model/naming.h"

namespace adapters {

namespace {

const char* k_megolm = "m.megolm.v1.aes-sha2";
// The spec's room version when m.room.create names none. A std::string
// constant also sidesteps GCC 12's false -Wrestrict on literal assignment.
const std::string k_default_room_version = "1";

std::optional<std::string> id_of(const RoomIds& room_ids, const std::string& key) {
  auto it = room_ids.find(key);
  if (it == room_ids.end()) {
    return std::nullopt;
  }
  return it->second;
}

model::Result<std::string> require_id(const RoomIds& room_ids, const std::string& key) {
  if (auto id = id_of(room_ids, key)) {
    return *id;
  }
  return model::fail(model::Error::Kind::not_found, "the room id of " + key + " is not known yet");
}

nlohmann::json via(const model::SpaceLink& link, const model::Settings& settings) {
  return link.via.empty() ? nlohmann::json::array({settings.server_name}) : nlohmann::json(link.via);
}

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

}  // namespace

nlohmann::json marker_content(const std::string& key, const model::Settings& settings) {
  return {{"key", key}, {"instance", settings.instance}};
}

std::string archive_event_type(const model::Settings& settings) { return settings.marker_event_type + ".archive"; }

nlohmann::json join_rules_content(const model::Room& room, const RoomIds& room_ids) {
  nlohmann::json content = {{"join_rule", model::to_string(room.join_rule)}};
  if (room.join_rule == model::JoinRule::restricted) {
    nlohmann::json allow = nlohmann::json::array();
    for (const std::string& space : room.allow_spaces) {
      if (auto id = id_of(room_ids, space)) {
        allow.push_back({{"type", "m.room_membership"}, {"room_id", *id}});
      }
    }
    content["allow"] = allow;
  }
  return content;
}

model::Result<StateWrite> state_write(const model::Room& room, model::StateField field, const std::string& link_key,
                                      const model::PowerLevels* operation_levels, const RoomIds& room_ids,
                                      const model::Settings& settings) {
  StateWrite write{model::event_type(field), "", nlohmann::json::object()};
  switch (field) {
    case model::StateField::name: write.content = {{"name", room.name}}; break;
    case model::StateField::topic: write.content = {{"topic", room.topic}}; break;
    case model::StateField::avatar:
      if (room.avatar_url) {
        write.content = {{"url", *room.avatar_url}};
      }
      break;
    case model::StateField::join_rules: write.content = join_rules_content(room, room_ids); break;
    case model::StateField::history_visibility:
      write.content = {{"history_visibility", model::to_string(room.history_visibility)}};
      break;
    case model::StateField::encryption: write.content = {{"algorithm", k_megolm}}; break;
    case model::StateField::power_levels:
      write.content = to_json(operation_levels ? *operation_levels : room.power_levels);
      break;
    case model::StateField::space_child: {
      auto child = require_id(room_ids, link_key);
      if (!child) {
        return tl::unexpected(child.error());
      }
      write.state_key = *child;
      auto it = std::find_if(room.children.begin(), room.children.end(),
                             [&](const model::SpaceLink& link) { return link.key == link_key; });
      model::SpaceLink link = it == room.children.end() ? model::SpaceLink{link_key, {}, true} : *it;
      write.content = {{"via", via(link, settings)}};
      break;
    }
    case model::StateField::space_parent: {
      auto parent = require_id(room_ids, link_key);
      if (!parent) {
        return tl::unexpected(parent.error());
      }
      write.state_key = *parent;
      model::SpaceLink link = room.parent ? *room.parent : model::SpaceLink{link_key, {}, true};
      write.content = {{"via", via(link, settings)}, {"canonical", link.canonical}};
      break;
    }
    case model::StateField::archive_record:
      write.type = archive_event_type(settings);
      // Empty content is how a state event is withdrawn (state cannot be deleted).
      if (room.archived_at) {
        write.content = {{"archived_at", *room.archived_at}};
      }
      break;
  }
  return write;
}

model::Result<nlohmann::json> create_room_body(const model::Room& room, const RoomIds& room_ids,
                                               const model::Settings& settings) {
  nlohmann::json initial_state = nlohmann::json::array();
  auto add_state = [&](const std::string& type, const std::string& state_key, nlohmann::json content) {
    initial_state.push_back({{"type", type}, {"state_key", state_key}, {"content", std::move(content)}});
  };
  add_state(settings.marker_event_type, "", marker_content(room.key, settings));
  add_state("m.room.join_rules", "", join_rules_content(room, room_ids));
  add_state("m.room.history_visibility", "", {{"history_visibility", model::to_string(room.history_visibility)}});
  if (room.encrypted) {
    add_state("m.room.encryption", "", {{"algorithm", k_megolm}});
  }
  if (room.avatar_url) {
    add_state("m.room.avatar", "", {{"url", *room.avatar_url}});
  }
  if (room.parent) {
    auto parent = require_id(room_ids, room.parent->key);
    if (!parent) {
      return tl::unexpected(parent.error());
    }
    add_state("m.space.parent", *parent, {{"via", via(*room.parent, settings)}, {"canonical", room.parent->canonical}});
  }
  nlohmann::json creation_content = nlohmann::json::object();
  if (room.kind == model::RoomKind::space) {
    creation_content["type"] = "m.space";
  }
  nlohmann::json body = {
      {"room_alias_name", model::alias_localpart_for(room.key, settings)},
      {"name", room.name},
      {"preset", "private_chat"},
      {"visibility", "private"},
      {"creation_content", creation_content},
      {"initial_state", initial_state},
      {"power_level_content_override", to_json(room.power_levels)},
  };
  if (!room.topic.empty()) {
    body["topic"] = room.topic;
  }
  if (!room.room_version.empty()) {
    body["room_version"] = room.room_version;
  }
  if (room.is_direct) {
    body["is_direct"] = true;
  }
  return body;
}

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
  return levels;
}

model::ObservedRoom parse_room_state(const std::string& room_id, const nlohmann::json& state_events,
                                     const std::map<std::string, std::string>& key_of,
                                     const model::Settings& settings) {
  model::ObservedRoom observed;
  observed.room_id = room_id;
  model::Room& room = observed.room;
  room.room_version = k_default_room_version;
  // Without a power levels event the spec's defaults differ from those of an
  // event with missing keys; a managed room always has one, so this only
  // matters for rooms we then refuse to touch anyway.
  if (!state_events.is_array()) {
    return observed;
  }
  for (const nlohmann::json& event : state_events) {
    if (!event.is_object() || !event.contains("content") || !event["content"].is_object()) {
      continue;
    }
    const std::string type = event.value("type", "");
    const std::string state_key = event.value("state_key", "");
    const nlohmann::json& content = event["content"];
    if (type == settings.marker_event_type && state_key.empty()) {
      if (string_field(content, "instance") == settings.instance) {
        observed.marker_key = string_field(content, "key");
      }
    } else if (type == archive_event_type(settings) && state_key.empty()) {
      if (content.contains("archived_at") && content["archived_at"].is_number_integer()) {
        room.archived_at = content["archived_at"].get<std::int64_t>();
      }
    } else if (type == "m.room.create") {
      room.kind = string_field(content, "type") == "m.space" ? model::RoomKind::space : model::RoomKind::room;
      std::string version = string_field(content, "room_version");
      room.room_version = version.empty() ? k_default_room_version : version;
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
          if (entry.is_object() && entry.value("type", "") == "m.room_membership") {
            room.allow_spaces.push_back(key_or_id(key_of, entry.value("room_id", "")));
          }
        }
      }
    } else if (type == "m.room.history_visibility") {
      room.history_visibility = parse_history(string_field(content, "history_visibility"));
    } else if (type == "m.room.encryption") {
      // Synapse accepts an empty content here; clients ignore it, so only an
      // algorithm counts as "encrypted".
      room.encrypted = !string_field(content, "algorithm").empty();
    } else if (type == "m.room.power_levels") {
      room.power_levels = parse_power_levels(content);
    } else if (type == "m.space.child") {
      // An m.space.child without `via` is the spec's way of removing a child.
      if (auto v = content.find("via"); v != content.end() && v->is_array() && !v->empty()) {
        room.children.push_back({key_or_id(key_of, state_key), v->get<std::vector<std::string>>(), true});
      }
    } else if (type == "m.space.parent") {
      if (auto v = content.find("via"); v != content.end() && v->is_array() && !v->empty()) {
        room.parent = model::SpaceLink{key_or_id(key_of, state_key), v->get<std::vector<std::string>>(),
                                       content.value("canonical", false)};
      }
    } else if (type == "m.room.member") {
      model::MemberState member;
      member.membership = parse_membership(string_field(content, "membership"));
      member.by_self = event.value("sender", "") == state_key;
      observed.members[state_key] = member;
      if (member.membership == model::Membership::join || member.membership == model::Membership::invite) {
        room.members.insert(state_key);
      }
    }
  }
  std::sort(room.children.begin(), room.children.end(),
            [](const model::SpaceLink& a, const model::SpaceLink& b) { return a.key < b.key; });
  room.key = observed.marker_key;
  return observed;
}

}  // namespace adapters
