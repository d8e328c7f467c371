#include "mxsim/event.h"

#include <set>

namespace mxsim {

std::string Event::membership() const {
  if (type != "m.room.member") {
    return "";
  }
  auto it = content.find("membership");
  if (it == content.end() || !it->is_string()) {
    return "";
  }
  return it->get<std::string>();
}

nlohmann::json Event::to_client(bool with_room_id) const {
  nlohmann::json json = {{"type", type},
                         {"content", content},
                         {"sender", sender},
                         {"event_id", event_id},
                         {"origin_server_ts", origin_server_ts}};
  if (with_room_id) {
    json["room_id"] = room_id;
  }
  if (state_key) {
    json["state_key"] = *state_key;
  }
  if (redacts) {
    json["redacts"] = *redacts;
  }
  nlohmann::json unsigned_data = nlohmann::json::object();
  if (prev_content) {
    unsigned_data["prev_content"] = *prev_content;
  }
  if (replaces_state) {
    unsigned_data["replaces_state"] = *replaces_state;
  }
  if (redacted_because) {
    unsigned_data["redacted_because"] = *redacted_because;
  }
  if (!unsigned_data.empty()) {
    json["unsigned"] = std::move(unsigned_data);
  }
  return json;
}

nlohmann::json Event::to_stripped() const {
  nlohmann::json json = {{"type", type}, {"content", content}, {"sender", sender}};
  json["state_key"] = state_key.value_or("");
  return json;
}

nlohmann::json Event::to_storage() const {
  nlohmann::json json = to_client(true);
  json["stream"] = stream;
  return json;
}

Event Event::from_storage(const nlohmann::json& json) {
  Event event;
  event.event_id = json.at("event_id").get<std::string>();
  event.room_id = json.at("room_id").get<std::string>();
  event.type = json.at("type").get<std::string>();
  event.sender = json.at("sender").get<std::string>();
  if (json.contains("state_key")) {
    event.state_key = json.at("state_key").get<std::string>();
  }
  event.content = json.at("content");
  event.origin_server_ts = json.at("origin_server_ts").get<int64_t>();
  event.stream = json.at("stream").get<int64_t>();
  if (json.contains("redacts")) {
    event.redacts = json.at("redacts").get<std::string>();
  }
  if (json.contains("unsigned")) {
    const auto& unsigned_data = json.at("unsigned");
    if (unsigned_data.contains("prev_content")) {
      event.prev_content = unsigned_data.at("prev_content");
    }
    if (unsigned_data.contains("replaces_state")) {
      event.replaces_state = unsigned_data.at("replaces_state").get<std::string>();
    }
    if (unsigned_data.contains("redacted_because")) {
      event.redacted_because = unsigned_data.at("redacted_because");
    }
  }
  return event;
}

nlohmann::json redact_content(const std::string& type, const nlohmann::json& content, const std::string& room_version) {
  int version = 1;
  try {
    version = std::stoi(room_version);
  } catch (const std::exception&) {
    version = 1;
  }
  std::set<std::string> keep;
  if (type == "m.room.member") {
    keep = {"membership"};
    if (version >= 9) {
      keep.insert("join_authorised_via_users_server");
    }
  } else if (type == "m.room.create") {
    if (version >= 11) {
      return content;
    }
    keep = {"creator"};
  } else if (type == "m.room.join_rules") {
    keep = {"join_rule"};
    if (version >= 8) {
      keep.insert("allow");
    }
  } else if (type == "m.room.power_levels") {
    keep = {"ban", "events", "events_default", "kick", "redact", "state_default", "users", "users_default"};
    if (version >= 11) {
      keep.insert("invite");
    }
  } else if (type == "m.room.history_visibility") {
    keep = {"history_visibility"};
  } else if (type == "m.room.aliases" && version <= 5) {
    keep = {"aliases"};
  } else if (type == "m.room.redaction" && version >= 11) {
    keep = {"redacts"};
  }
  nlohmann::json kept = nlohmann::json::object();
  if (content.is_object()) {
    for (const auto& key : keep) {
      if (content.contains(key)) {
        kept[key] = content.at(key);
      }
    }
  }
  return kept;
}

}  // namespace mxsim
