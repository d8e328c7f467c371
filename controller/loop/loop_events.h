#pragma once
// The control loop's mailbox: what the other threads (signals, the change
// feed, the manifest watch) tell the loop, collected until it looks.
// Repeated news merges: ten edits before the loop wakes are one reload.

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>

namespace controller {

/// What arrived since the loop last looked.
struct LoopNews {
  bool stop = false;
  /// SIGHUP: read the config and the desired state again.
  bool reload = false;
  /// The desired state's sources changed (a manifest written).
  bool source_changed = false;
  /// Rooms the homeserver showed moving; empty: none.
  std::set<std::string> rooms_changed;
  /// The change feed saw something (possibly rooms it could not name).
  bool homeserver_changed = false;

  bool empty() const { return !stop && !reload && !source_changed && !homeserver_changed; }
};

/// Thread-safe; every post wakes the waiting loop.
class LoopEvents {
 public:
  void post_stop();
  void post_reload();
  void post_source_changed();
  void post_homeserver_changed(const std::set<std::string>& rooms);

  /// Waits until news arrives or `until` passes, and takes all of it.
  LoopNews wait_until(std::chrono::steady_clock::time_point until);
  /// Takes what has arrived without waiting.
  LoopNews take();

 private:
  std::mutex m_mutex;
  std::condition_variable m_arrived;
  LoopNews m_news;
};

}  // namespace controller
