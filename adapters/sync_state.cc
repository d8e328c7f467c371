#include "adapters/sync_state.h"

namespace adapters {

namespace {

void absorb(const nlohmann::json& events, RoomStates::mapped_type& state, bool& touched) {
  if (!events.is_array()) {
    return;
  }
  for (const nlohmann::json& event : events) {
    if (!event.is_object() || !event.contains("state_key") || !event["state_key"].is_string() ||
        !event.contains("type")) {
      continue;  // not a state event (messages in the timeline)
    }
    state[{event.value("type", ""), event["state_key"].get<std::string>()}] = event;
    touched = true;
  }
}

const nlohmann::json& section(const nlohmann::json& room, const char* name) {
  static const nlohmann::json k_empty = nlohmann::json::array();
  auto it = room.find(name);
  if (it == room.end() || !it->is_object()) {
    return k_empty;
  }
  auto events = it->find("events");
  return events == it->end() ? k_empty : *events;
}

}  // namespace

SyncChanges apply_sync(const nlohmann::json& sync, RoomStates& states) {
  SyncChanges changes;
  auto rooms = sync.find("rooms");
  if (rooms == sync.end() || !rooms->is_object()) {
    return changes;
  }
  if (auto join = rooms->find("join"); join != rooms->end() && join->is_object()) {
    for (const auto& [room_id, room] : join->items()) {
      bool touched = !states.count(room_id);  // a room new to us counts even if empty
      RoomStates::mapped_type& state = states[room_id];
      absorb(section(room, "state"), state, touched);
      absorb(section(room, "timeline"), state, touched);
      if (touched) {
        changes.updated.insert(room_id);
      }
    }
  }
  if (auto leave = rooms->find("leave"); leave != rooms->end() && leave->is_object()) {
    for (const auto& [room_id, room] : leave->items()) {
      if (states.erase(room_id) > 0) {
        changes.removed.insert(room_id);
        changes.updated.erase(room_id);
      }
    }
  }
  return changes;
}

nlohmann::json state_array(const RoomStates::mapped_type& state) {
  nlohmann::json events = nlohmann::json::array();
  for (const auto& [key, event] : state) {
    events.push_back(event);
  }
  return events;
}

std::string snapshot_text(const RoomStates::mapped_type& state) { return state_array(state).dump(); }

std::optional<RoomStates::mapped_type> parse_snapshot(const std::string& text) {
  nlohmann::json events = nlohmann::json::parse(text, nullptr, false);
  if (!events.is_array()) {
    return std::nullopt;
  }
  RoomStates::mapped_type state;
  bool touched = false;
  absorb(events, state, touched);
  return state;
}

}  // namespace adapters
