#include "adapters/homeserver/transaction_feed.h"

namespace adapters {

namespace {

std::string text_of(const nlohmann::json& object, const char* name) {
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

void TransactionFeed::set_room_filter(std::function<bool(const std::string& room_id)> managed) {
  std::lock_guard<std::mutex> lock(m_mutex);
  m_managed = std::move(managed);
}

void TransactionFeed::push(const nlohmann::json& events) {
  if (!events.is_array()) {
    return;
  }
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    for (const nlohmann::json& event : events) {
      if (!event.is_object()) {
        continue;
      }
      Pending pending{text_of(event, "room_id"), text_of(event, "event_id"), text_of(event, "type"),
                      text_of(event, "sender"),  text_of(event, "state_key"), {}};
      if (auto content = event.find("content"); content != event.end() && content->is_object()) {
        pending.membership = text_of(*content, "membership");
      }
      if (pending.room_id.empty()) {
        continue;  // not a room's event: nothing a pass could look at
      }
      if (m_pending.empty()) {
        m_first_pending = std::chrono::steady_clock::now();
      }
      m_pending.push_back(std::move(pending));
    }
  }
  m_changed.notify_all();
}

model::Result<ChangeNotice> TransactionFeed::wait(const std::string& position, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + std::max(timeout, std::chrono::milliseconds::zero());
  std::unique_lock<std::mutex> lock(m_mutex);
  for (;;) {
    if (m_cancelled) {
      return model::fail(model::Error::Kind::transient, "the transaction feed was stopped");
    }
    const auto now = std::chrono::steady_clock::now();
    if (!m_pending.empty()) {
      const auto settled = m_first_pending + m_settle;
      if (now < settled) {
        m_changed.wait_until(lock, settled);
        continue;
      }
      ChangeNotice notice;
      notice.next_position = position;
      bool saw_own = false;
      for (const Pending& event : m_pending) {
        if (m_own != nullptr && m_own->take(event.room_id, event.event_id, event.type, event.sender,
                                            event.state_key, event.membership)) {
          saw_own = true;
          continue;
        }
        if (!m_managed || m_managed(event.room_id)) {
          notice.rooms.insert(event.room_id);
        }
      }
      m_pending.clear();
      notice.only_own_writes = saw_own && notice.rooms.empty();
      if (notice.changed() || notice.only_own_writes) {
        return notice;
      }
      continue;  // only rooms nobody manages: keep waiting
    }
    if (now >= deadline) {
      ChangeNotice quiet;
      quiet.next_position = position;
      return quiet;
    }
    m_changed.wait_until(lock, deadline);
  }
}

void TransactionFeed::cancel() {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_cancelled = true;
  }
  m_changed.notify_all();
}

}  // namespace adapters
