#pragma once
// The events mxctl's own writes produced, so that the change feed can tell
// them from drift: a repair's write comes back through /sync, and taken
// for a change it would wake a second pass that can only find nothing to
// do. State events and messages are known by the event id the server
// answered with; invites, kicks and admin joins answer without one, so
// their membership event is known by what it says.
//
// Shared between the port (which writes, from the executor's threads) and
// the feed (which reads, from its own thread). Bounded: the oldest entries
// are dropped first, and an entry dropped only costs a pass.

#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_set>

namespace adapters {

/// What mxctl wrote, as the change feed will see it come back.
class OwnWrites {
 public:
  /// Keeps at most `capacity` entries.
  explicit OwnWrites(std::size_t capacity = 4096) : m_capacity(capacity) {}

  /// Records the event id a write was answered with.
  void add_event(const std::string& event_id);
  /// Records that `sender` set `user_id`'s membership in `room_id` to
  /// `membership` ("invite", "leave", "join").
  void add_membership(const std::string& room_id, const std::string& sender, const std::string& user_id,
                      const std::string& membership);

  /// True when an event of `room_id` is one mxctl wrote: `event_id` was
  /// recorded, or it is an m.room.member event (`type`) from `sender` that
  /// sets `state_key`'s `membership` as a recorded change did. The entry is
  /// then forgotten: each write comes back once, and a later event that
  /// looks the same (someone repeating the kick) is someone else's.
  bool take(const std::string& room_id, const std::string& event_id, const std::string& type,
            const std::string& sender, const std::string& state_key, const std::string& membership);

 private:
  void add(std::string key);

  const std::size_t m_capacity;
  mutable std::mutex m_mutex;
  std::deque<std::string> m_order;
  std::unordered_set<std::string> m_keys;
};

}  // namespace adapters
