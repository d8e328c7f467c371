#pragma once
// The change feed of an application service: the homeserver pushes events
// (transactions) instead of the bot long-polling /sync, which Synapse
// refuses an appservice's sender. push() is called from the listener's
// threads, wait() from the loop's feed watcher; the rooms the events moved
// are kept until a wait takes them, so none is lost between two waits.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/change_feed.h"
#include "adapters/homeserver/own_writes.h"

namespace adapters {

/// ChangeFeed over pushed transactions. Thread-safe.
class TransactionFeed final : public ChangeFeed {
 public:
  /// How long pushed events wait before they are sorted out: the write that
  /// made an event may come back to the port (and be recorded in its
  /// OwnWrites) a moment after the homeserver pushed the event.
  static constexpr std::chrono::milliseconds k_settle{200};

  /// Events `own` holds (mxctl's own writes) move nothing; `own` may be null
  /// and must outlive the feed.
  explicit TransactionFeed(OwnWrites* own = nullptr, std::chrono::milliseconds settle = k_settle)
      : m_own(own), m_settle(settle) {}

  /// Only rooms for which `managed` is true move (the managed rooms the
  /// last pass knew); without one, every room does. Thread-safe.
  void set_room_filter(std::function<bool(const std::string& room_id)> managed);

  /// Takes in the events of one transaction (client-format event objects;
  /// anything else in the array is ignored).
  void push(const nlohmann::json& events);

  /// Waits up to `timeout` for pushed events that move a room; `position`
  /// is given back as next_position (transactions have none). After
  /// cancel(), fails at once.
  model::Result<ChangeNotice> wait(const std::string& position, std::chrono::milliseconds timeout) override;
  void cancel() override;

 private:
  struct Pending {
    std::string room_id, event_id, type, sender, state_key, membership;
  };

  OwnWrites* m_own;
  const std::chrono::milliseconds m_settle;
  mutable std::mutex m_mutex;
  std::condition_variable m_changed;
  std::vector<Pending> m_pending;
  std::chrono::steady_clock::time_point m_first_pending;
  std::function<bool(const std::string&)> m_managed;
  bool m_cancelled = false;
};

}  // namespace adapters
