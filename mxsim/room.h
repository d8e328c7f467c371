#pragma once
// One room: its events in order, the current state derived from them, and
// membership lookups. Not thread-safe on its own: the Homeserver lock guards it.

#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "mxsim/event.h"

namespace mxsim {

/// (event type, state key).
using StateKey = std::pair<std::string, std::string>;

/// A room's timeline and current state.
class Room {
 public:
  Room(std::string room_id, std::string version);

  /// The room id ("!x:server").
  const std::string& room_id() const { return m_room_id; }
  /// The room version string ("10").
  const std::string& version() const { return m_version; }
  /// The room version as a number (1 for anything unparsable).
  int version_number() const;

  /// Every event, oldest first. References stay valid as events are appended.
  const std::deque<Event>& events() const { return m_events; }
  /// The current state event for (type, key), or nullptr when absent.
  const Event* state_event(const std::string& type, const std::string& state_key = "") const;
  /// The current state as (type, key) -> event.
  std::map<StateKey, const Event*> current_state() const;
  /// The state right after the event at `index` (inclusive), for departed members.
  std::map<StateKey, const Event*> state_after(size_t index) const;
  /// The event with `event_id`, or nullptr.
  const Event* find_event(const std::string& event_id) const;
  /// Index of `event_id` in events(), or -1.
  long index_of(const std::string& event_id) const;

  /// content.membership of `user_id`'s member event, or "" when there is none.
  std::string membership_of(const std::string& user_id) const;
  /// Users whose current membership is `membership`, sorted.
  std::vector<std::string> users_with(const std::string& membership) const;
  /// content.join_rule of m.room.join_rules ("invite" when absent, as the auth rules assume).
  std::string join_rule() const;
  /// The creator from the create event ("" before it exists).
  std::string creator() const;
  /// content.type of the create event ("" when not a space or other typed room).
  std::string room_type() const;
  /// A state value: content[field] of (type, "") when it is a string, else "".
  std::string state_string(const std::string& type, const std::string& field) const;

  /// Appends `event` (already authorised), filling prev_content/replaces_state
  /// for state events, and updates the current state. Returns the stored event.
  const Event& append(Event event);
  /// Applies a redaction to the stored event `target_id` (no-op when unknown).
  void redact(const std::string& target_id, const nlohmann::json& redaction_event);

  /// Whether the room is published in the room directory.
  bool published() const { return m_published; }
  /// Sets directory visibility.
  void set_published(bool published) { m_published = published; }
  /// The stream position of the newest event (0 when empty).
  int64_t last_stream() const;

  /// Leaves `event_id` out of incremental syncs from before `since_before`
  /// that reach `until_from` or later: a forked write's lost state change
  /// (see forks.h). Initial and full-state syncs still carry it.
  void hide_from_incremental_sync(const std::string& event_id, int64_t since_before, int64_t until_from);
  /// True when an incremental sync over (since, until] must leave `event_id` out.
  bool hidden_from_incremental_sync(const std::string& event_id, int64_t since, int64_t until) const;
  /// True when `event_id` is hidden from some incremental syncs.
  bool hides(const std::string& event_id) const { return m_sync_omissions.count(event_id) > 0; }

 private:
  std::string m_room_id;
  std::string m_version;
  std::deque<Event> m_events;
  std::map<StateKey, size_t> m_state;
  std::map<std::string, size_t> m_by_id;
  bool m_published = false;
  /// event id -> (since_before, until_from) of hide_from_incremental_sync.
  std::map<std::string, std::pair<int64_t, int64_t>> m_sync_omissions;
};

}  // namespace mxsim
