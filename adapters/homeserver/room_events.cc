#include "adapters/homeserver/room_events.h"

#include "adapters/homeserver/matrix_state_json.h"
#include "model/naming.h"

namespace adapters {

namespace {

const char* k_megolm = "m.megolm.v1.aes-sha2";

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

}  // namespace

nlohmann::json marker_content(const std::string& key, const model::Settings& settings, bool protect) {
  nlohmann::json content = {{"key", key}, {"instance", settings.instance}};
  if (protect) {
    content["protect"] = true;
  }
  return content;
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
    case model::StateField::guest_access: write.content = {{"guest_access", "forbidden"}}; break;
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
    case model::StateField::retired_child:
      write.state_key = link_key;  // the retired room's id: it has no key any more
      break;
    case model::StateField::marker:
      write.type = settings.marker_event_type;
      write.content = marker_content(room.key, settings, room.protect);
      break;
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
  add_state(settings.marker_event_type, "", marker_content(room.key, settings, room.protect));
  add_state("m.room.join_rules", "", join_rules_content(room, room_ids));
  add_state("m.room.history_visibility", "", {{"history_visibility", model::to_string(room.history_visibility)}});
  // In place of the preset's "can_join" (Synapse sends that only when the
  // initial state has no guest access of its own).
  if (room.guests_forbidden) {
    add_state("m.room.guest_access", "", {{"guest_access", "forbidden"}});
  }
  // A room opening with a context message is encrypted after it.
  if (room.encrypted && !model::encrypted_after_message(room)) {
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

}  // namespace adapters
