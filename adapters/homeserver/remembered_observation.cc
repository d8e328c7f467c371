#include "adapters/homeserver/remembered_observation.h"

namespace adapters {

void RememberedRooms::remember(BotRooms&& read, const SnapshotBase& base) {
  if (base.digests != &m_digests) {
    m_snapshots.clear();
    m_digests.clear();
    if (!base.empty()) {
      for (const auto& [room_id, digest] : *base.digests) {
        if (read.changed_snapshots.count(room_id)) {
          continue;  // replaced below
        }
        std::optional<std::string> text = base.text ? base.text(room_id) : std::nullopt;
        if (!text || snapshot_digest(*text) != digest) {
          forget();
          return;
        }
        m_snapshots[room_id] = std::move(*text);
        m_digests[room_id] = digest;
      }
    }
  }
  for (auto& [room_id, snapshot] : read.changed_snapshots) {
    if (snapshot) {
      m_digests[room_id] = snapshot_digest(*snapshot);
      m_snapshots[room_id] = std::move(*snapshot);
    } else {
      m_snapshots.erase(room_id);
      m_digests.erase(room_id);
    }
  }
  m_rooms = std::move(read.rooms);
  m_token = std::move(read.sync_token);
}

void RememberedRooms::forget() {
  m_token.clear();
  m_snapshots.clear();
  m_digests.clear();
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
