#include "mxsim/room.h"

namespace mxsim {

Room::Room(std::string room_id, std::string version) : m_room_id(std::move(room_id)), m_version(std::move(version)) {}

int Room::version_number() const {
  try {
    return std::stoi(m_version);
  } catch (const std::exception&) {
    return 1;
  }
}

const Event* Room::state_event(const std::string& type, const std::string& state_key) const {
  auto it = m_state.find({type, state_key});
  if (it == m_state.end()) {
    return nullptr;
  }
  return &m_events[it->second];
}

std::map<StateKey, const Event*> Room::current_state() const {
  std::map<StateKey, const Event*> state;
  for (const auto& [key, index] : m_state) {
    state[key] = &m_events[index];
  }
  return state;
}

std::map<StateKey, const Event*> Room::state_after(size_t index) const {
  std::map<StateKey, const Event*> state;
  for (size_t i = 0; i <= index && i < m_events.size(); ++i) {
    const Event& event = m_events[i];
    if (event.state_key) {
      state[{event.type, *event.state_key}] = &event;
    }
  }
  return state;
}

const Event* Room::find_event(const std::string& event_id) const {
  auto it = m_by_id.find(event_id);
  if (it == m_by_id.end()) {
    return nullptr;
  }
  return &m_events[it->second];
}

long Room::index_of(const std::string& event_id) const {
  auto it = m_by_id.find(event_id);
  if (it == m_by_id.end()) {
    return -1;
  }
  return static_cast<long>(it->second);
}

std::string Room::membership_of(const std::string& user_id) const {
  const Event* event = state_event("m.room.member", user_id);
  return event ? event->membership() : "";
}

std::vector<std::string> Room::users_with(const std::string& membership) const {
  std::vector<std::string> users;
  auto it = m_state.lower_bound({"m.room.member", ""});
  for (; it != m_state.end() && it->first.first == "m.room.member"; ++it) {
    if (m_events[it->second].membership() == membership) {
      users.push_back(it->first.second);
    }
  }
  return users;
}

std::string Room::join_rule() const {
  std::string rule = state_string("m.room.join_rules", "join_rule");
  return rule.empty() ? "invite" : rule;
}

std::string Room::creator() const {
  const Event* create = state_event("m.room.create");
  if (!create) {
    return "";
  }
  auto it = create->content.find("creator");
  if (it != create->content.end() && it->is_string()) {
    return it->get<std::string>();
  }
  return create->sender;
}

std::string Room::room_type() const { return state_string("m.room.create", "type"); }

std::string Room::state_string(const std::string& type, const std::string& field) const {
  const Event* event = state_event(type);
  if (!event || !event->content.is_object()) {
    return "";
  }
  auto it = event->content.find(field);
  if (it == event->content.end() || !it->is_string()) {
    return "";
  }
  return it->get<std::string>();
}

const Event& Room::append(Event event) {
  if (event.state_key) {
    auto it = m_state.find({event.type, *event.state_key});
    if (it != m_state.end()) {
      const Event& previous = m_events[it->second];
      event.prev_content = previous.content;
      event.replaces_state = previous.event_id;
    }
  }
  size_t index = m_events.size();
  m_by_id[event.event_id] = index;
  if (event.state_key) {
    m_state[{event.type, *event.state_key}] = index;
  }
  m_events.push_back(std::move(event));
  return m_events.back();
}

void Room::redact(const std::string& target_id, const nlohmann::json& redaction_event) {
  auto it = m_by_id.find(target_id);
  if (it == m_by_id.end()) {
    return;
  }
  Event& target = m_events[it->second];
  target.content = redact_content(target.type, target.content, m_version);
  target.prev_content.reset();
  target.redacted_because = redaction_event;
}

int64_t Room::last_stream() const { return m_events.empty() ? 0 : m_events.back().stream; }

void Room::hide_from_incremental_sync(const std::string& event_id, int64_t since_before, int64_t until_from) {
  m_sync_omissions[event_id] = {since_before, until_from};
}

bool Room::hidden_from_incremental_sync(const std::string& event_id, int64_t since, int64_t until) const {
  if (m_sync_omissions.empty()) {
    return false;
  }
  auto it = m_sync_omissions.find(event_id);
  return it != m_sync_omissions.end() && since < it->second.first && until >= it->second.second;
}

}  // namespace mxsim
