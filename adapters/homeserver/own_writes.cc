#include "adapters/homeserver/own_writes.h"

namespace adapters {

namespace {

// Event ids start with '$'; membership keys with a character no id can
// hold, so the two kinds never collide.
std::string membership_key(const std::string& room_id, const std::string& sender, const std::string& user_id,
                           const std::string& membership) {
  return "\n" + room_id + "\n" + sender + "\n" + user_id + "\n" + membership;
}

}  // namespace

void OwnWrites::add_event(const std::string& event_id) {
  if (!event_id.empty()) {
    add(event_id);
  }
}

void OwnWrites::add_membership(const std::string& room_id, const std::string& sender, const std::string& user_id,
                               const std::string& membership) {
  add(membership_key(room_id, sender, user_id, membership));
}

bool OwnWrites::take(const std::string& room_id, const std::string& event_id, const std::string& type,
                     const std::string& sender, const std::string& state_key, const std::string& membership) {
  std::lock_guard<std::mutex> lock(m_mutex);
  std::string key = event_id;
  if (key.empty() || !m_keys.count(key)) {
    if (type != "m.room.member") {
      return false;
    }
    key = membership_key(room_id, sender, state_key, membership);
    if (!m_keys.count(key)) {
      return false;
    }
  }
  m_keys.erase(key);  // its place in m_order goes when it would have been dropped
  return true;
}

void OwnWrites::add(std::string key) {
  std::lock_guard<std::mutex> lock(m_mutex);
  if (!m_keys.insert(key).second) {
    return;
  }
  m_order.push_back(std::move(key));
  while (m_order.size() > m_capacity) {
    m_keys.erase(m_order.front());  // nothing when it was taken already
    m_order.pop_front();
  }
}

}  // namespace adapters
