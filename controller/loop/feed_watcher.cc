#include "controller/loop/feed_watcher.h"

#include <algorithm>
#include <utility>

namespace controller {

FeedWatcher::FeedWatcher(adapters::ChangeFeed& feed, LoopEvents& events, FeedWatchOptions options,
                         std::function<void(const model::Error&)> on_error, std::function<void()> on_wait)
    : m_feed(feed),
      m_events(events),
      m_options(options),
      m_on_error(std::move(on_error)),
      m_on_wait(std::move(on_wait)) {}

FeedWatcher::~FeedWatcher() { stop(); }

void FeedWatcher::arm(const std::string& position) {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_stopping) {
      return;
    }
    m_position = position;
    m_armed = true;
    if (!m_thread.joinable()) {
      m_thread = std::thread([this] { run(); });
    }
  }
  m_changed.notify_all();
}

void FeedWatcher::stop() {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_stopping = true;
  }
  m_changed.notify_all();
  m_feed.cancel();
  if (m_thread.joinable()) {
    m_thread.join();
  }
}

bool FeedWatcher::pause(std::unique_lock<std::mutex>& lock, std::chrono::milliseconds pause) {
  m_changed.wait_for(lock, pause, [&] { return m_stopping; });
  return !m_stopping;
}

void FeedWatcher::run() {
  std::chrono::milliseconds backoff = m_options.backoff_min;
  std::unique_lock<std::mutex> lock(m_mutex);
  for (;;) {
    m_changed.wait(lock, [&] { return m_stopping || m_armed; });
    if (m_stopping) {
      return;
    }
    const std::string position = m_position;
    lock.unlock();
    const auto started = std::chrono::steady_clock::now();
    auto notice = m_feed.wait(position, m_options.wait);
    const auto took = std::chrono::steady_clock::now() - started;
    lock.lock();
    if (m_stopping) {
      return;  // the wait was cancelled by stop(): not a failure to report
    }
    lock.unlock();
    if (!notice && m_on_error) {
      m_on_error(notice.error());
    }
    if (notice && m_on_wait) {
      m_on_wait();
    }
    lock.lock();
    if (m_stopping) {
      return;
    }
    if (!notice) {
      if (!pause(lock, backoff)) {
        return;
      }
      backoff = std::min(backoff * 2, m_options.backoff_max);
      continue;
    }
    backoff = m_options.backoff_min;
    // The loop may have armed a newer position during the wait.
    const bool superseded = m_position != position;
    if (notice->changed()) {
      m_events.post_homeserver_changed(notice->rooms);
      if (!superseded) {
        m_armed = false;  // until the loop's pass gives the next position
      }
      continue;
    }
    if (!superseded) {
      m_position = notice->next_position;
    }
    // A quick answer of only mxctl's own writes is the server long-polling
    // as it should; a quick empty one may be a server that does not.
    if (took < m_options.quiet_floor && !notice->only_own_writes && !pause(lock, m_options.quiet_floor)) {
      return;
    }
  }
}

}  // namespace controller
