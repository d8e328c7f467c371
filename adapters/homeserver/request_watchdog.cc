#include "adapters/homeserver/request_watchdog.h"

#include <httplib.h>

#include <algorithm>
#include <optional>

namespace adapters {

namespace {

// How often a request past its deadline is stopped again while it lasts.
constexpr std::chrono::milliseconds k_repeat{50};

}  // namespace

RequestWatchdog::~RequestWatchdog() {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_stopping = true;
  }
  m_changed.notify_all();
  if (m_thread.joinable()) {
    m_thread.join();
  }
}

RequestWatchdog::Watch RequestWatchdog::watch(httplib::Client& client, Clock::time_point deadline) {
  std::lock_guard<std::mutex> lock(m_mutex);
  if (!m_thread.joinable()) {
    m_thread = std::thread([this] { run(); });
  }
  const std::uint64_t id = m_next_id++;
  m_entries.emplace(id, Entry{m_cancelled ? Clock::now() : deadline, &client});
  m_changed.notify_all();
  return Watch(*this, id);
}

void RequestWatchdog::cancel_all() {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_cancelled = true;
    const auto now = Clock::now();
    for (auto& [id, entry] : m_entries) {
      entry.deadline = std::min(entry.deadline, now);
    }
  }
  m_changed.notify_all();
}

bool RequestWatchdog::Watch::end() {
  if (!m_owner) {
    return false;
  }
  bool fired = m_owner->end(m_id);
  m_owner = nullptr;
  return fired;
}

bool RequestWatchdog::end(std::uint64_t id) {
  std::lock_guard<std::mutex> lock(m_mutex);
  auto it = m_entries.find(id);
  if (it == m_entries.end()) {
    return false;
  }
  bool fired = it->second.fired;
  m_entries.erase(it);
  return fired;
}

void RequestWatchdog::run() {
  std::unique_lock<std::mutex> lock(m_mutex);
  while (!m_stopping) {
    std::optional<Clock::time_point> next;
    const auto now = Clock::now();
    for (auto& [id, entry] : m_entries) {
      if (entry.deadline <= now) {
        // Shuts the socket down: the request's blocked read returns at once.
        // While it connects, stop() waits for the connection (bounded by
        // the connect timeout). Repeated until the request ends: a stop()
        // that came before the request had its socket stops nothing.
        entry.client->stop();
        entry.fired = true;
        entry.deadline = now + k_repeat;
      }
      if (!next || entry.deadline < *next) {
        next = entry.deadline;
      }
    }
    if (next) {
      m_changed.wait_until(lock, *next);
    } else {
      m_changed.wait(lock);
    }
  }
}

}  // namespace adapters
