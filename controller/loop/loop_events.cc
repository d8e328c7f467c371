#include "controller/loop/loop_events.h"

#include <utility>

namespace controller {

void LoopEvents::post_stop() {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_news.stop = true;
  }
  m_arrived.notify_all();
}

void LoopEvents::post_reload() {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_news.reload = true;
  }
  m_arrived.notify_all();
}

void LoopEvents::post_source_changed() {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_news.source_changed = true;
  }
  m_arrived.notify_all();
}

void LoopEvents::post_homeserver_changed(const std::set<std::string>& rooms) {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_news.homeserver_changed = true;
    m_news.rooms_changed.insert(rooms.begin(), rooms.end());
  }
  m_arrived.notify_all();
}

LoopNews LoopEvents::wait_until(std::chrono::steady_clock::time_point until) {
  std::unique_lock<std::mutex> lock(m_mutex);
  m_arrived.wait_until(lock, until, [&] { return !m_news.empty(); });
  return std::exchange(m_news, LoopNews{});
}

LoopNews LoopEvents::take() {
  std::lock_guard<std::mutex> lock(m_mutex);
  return std::exchange(m_news, LoopNews{});
}

}  // namespace controller
