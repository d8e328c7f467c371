#include "adapters/homeserver/remembered_observation.h"

namespace adapters {

void RememberedRooms::remember(BotRooms&& read, const std::map<std::string, std::string>& base) {
  if (&base != &m_snapshots) {
    m_snapshots = base;
  }
  for (auto& [room_id, snapshot] : read.changed_snapshots) {
    if (snapshot) {
      m_snapshots[room_id] = std::move(*snapshot);
    } else {
      m_snapshots.erase(room_id);
    }
  }
  m_rooms = std::move(read.rooms);
  m_token = std::move(read.sync_token);
}

void RememberedRooms::forget() {
  m_token.clear();
  m_snapshots.clear();
  m_rooms.clear();
}


bool RememberedAccounts::recall(const model::MatrixState& desired, const std::set<std::string>& suspended_by_us,
                                model::ObservedState& out) const {
  // What observation reads depends on what is desired (the accounts wanted
  // suspended are read one by one), so all of it must be the same.
  if (!m_valid || suspended_by_us != m_suspended_by_us || desired.accounts != m_desired) {
    return false;
  }
  out.accounts = m_accounts;
  out.cannot_suspend = m_cannot_suspend;
  return true;
}

void RememberedAccounts::remember(const model::MatrixState& desired, const std::set<std::string>& suspended_by_us,
                                  const model::ObservedState& observed) {
  m_desired = desired.accounts;
  m_suspended_by_us = suspended_by_us;
  m_accounts = observed.accounts;
  m_cannot_suspend = observed.cannot_suspend;
  m_valid = true;
}

}  // namespace adapters
