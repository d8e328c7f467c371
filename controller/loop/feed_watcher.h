#pragma once
// The thread that waits on the homeserver's change feed for the loop. It
// waits from the position the last pass read up to; when it sees rooms
// move it tells the loop and waits no more until the loop, after its pass,
// gives it the new position. A quiet wait just moves on to the next.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "adapters/change_feed.h"
#include "controller/loop/loop_events.h"
#include "model/result.h"

namespace controller {

/// Bounds of the feed's waits and of its backoff after a failed one.
struct FeedWatchOptions {
  std::chrono::milliseconds wait{30000};
  std::chrono::milliseconds backoff_min{1000};
  std::chrono::milliseconds backoff_max{60000};
  /// A wait that answers quicker than this with no change is followed by a
  /// pause this long, so a server that never long-polls is not hammered.
  std::chrono::milliseconds quiet_floor{1000};
};

/// Runs `feed` on a thread of its own from start() until stop().
class FeedWatcher {
 public:
  /// `on_error` is called from the watcher's thread for each failed wait,
  /// `on_wait` after each wait that answered; both may be empty, and may
  /// not call arm() or stop().
  FeedWatcher(adapters::ChangeFeed& feed, LoopEvents& events, FeedWatchOptions options,
              std::function<void(const model::Error&)> on_error = {}, std::function<void()> on_wait = {});
  /// Stops and joins.
  ~FeedWatcher();
  FeedWatcher(const FeedWatcher&) = delete;
  FeedWatcher& operator=(const FeedWatcher&) = delete;

  /// (Re)starts watching from `position`; the thread starts with the first.
  void arm(const std::string& position);
  /// Ends the wait in progress (the feed is cancelled) and joins the thread.
  void stop();

 private:
  void run();
  // Waits up to `pause` unless stopped; false once stopped.
  bool pause(std::unique_lock<std::mutex>& lock, std::chrono::milliseconds pause);

  adapters::ChangeFeed& m_feed;
  LoopEvents& m_events;
  const FeedWatchOptions m_options;
  std::function<void(const model::Error&)> m_on_error;
  std::function<void()> m_on_wait;
  std::mutex m_mutex;
  std::condition_variable m_changed;
  std::string m_position;
  bool m_armed = false;
  bool m_stopping = false;
  std::thread m_thread;
};

}  // namespace controller
