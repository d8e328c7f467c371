#pragma once
// What the control loop last knew, for the threads that answer the
// homeserver's application-service queries while a pass may be running:
// the desired state it last loaded and the managed rooms' ids. The loop
// publishes, the listener reads; neither waits on the other beyond a copy.

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "model/matrix_state.h"

namespace adapters {

/// A thread-safe copy of the loop's last desired state and room ids.
class DesiredSnapshot {
 public:
  /// Replaces the desired state (after a load that succeeded).
  void set_desired(model::MatrixState desired) {
    auto shared = std::make_shared<const model::MatrixState>(std::move(desired));
    std::lock_guard<std::mutex> lock(m_mutex);
    m_desired = std::move(shared);
  }
  /// Replaces the managed rooms' ids (key → room id, the store's map).
  void set_room_ids(std::map<std::string, std::string> room_ids) {
    std::set<std::string> ids;
    for (const auto& [key, id] : room_ids) {
      ids.insert(id);
    }
    std::lock_guard<std::mutex> lock(m_mutex);
    m_room_ids = std::move(room_ids);
    m_ids = std::move(ids);
  }
  /// The last desired state; null before the first load.
  std::shared_ptr<const model::MatrixState> desired() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_desired;
  }
  /// Key → room id of the managed rooms known; empty before the first.
  std::map<std::string, std::string> room_ids() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_room_ids;
  }
  /// Whether `room_id` is a managed room's.
  bool is_managed_room(const std::string& room_id) const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_ids.count(room_id) > 0;
  }

 private:
  mutable std::mutex m_mutex;
  std::shared_ptr<const model::MatrixState> m_desired;
  std::map<std::string, std::string> m_room_ids;
  std::set<std::string> m_ids;
};

}  // namespace adapters
