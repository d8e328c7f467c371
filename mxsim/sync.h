#pragma once
// GET /sync: initial and incremental sync with the filter subset clients use
// (room.rooms / not_rooms, timeline limit and types, state types,
// include_leave, account_data types), long-polling, and Synapse's habit of
// answering an identical repeated request from a cache.

#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "mxsim/state.h"

namespace mxsim {

/// Remembers /sync answers by request key for a while (Synapse keeps them 2 minutes).
class SyncCache {
 public:
  /// The cached answer for `key`, or nullopt when absent or expired.
  std::optional<nlohmann::json> get(const std::string& key);
  /// Stores `answer` for `ttl_ms` milliseconds (nothing when ttl_ms <= 0).
  void put(const std::string& key, nlohmann::json answer, int64_t ttl_ms);
  /// Forgets everything.
  void clear();

 private:
  struct Entry {
    std::chrono::steady_clock::time_point expires;
    nlohmann::json answer;
  };
  std::mutex m_mutex;
  std::map<std::string, Entry> m_entries;
};

/// The parsed parts of a sync filter that the simulator honours.
struct SyncFilter {
  std::optional<std::vector<std::string>> rooms;
  std::vector<std::string> not_rooms;
  int timeline_limit = 10;
  std::optional<std::vector<std::string>> timeline_types;
  std::vector<std::string> timeline_not_types;
  std::optional<std::vector<std::string>> state_types;
  std::vector<std::string> state_not_types;
  std::optional<std::vector<std::string>> account_data_types;
  std::vector<std::string> account_data_not_types;
  bool include_leave = false;
  /// The event fields a room's events keep ("content.body" reaches into an
  /// object, and a backslash makes the dot after it literal); empty keeps them all.
  std::vector<std::string> event_fields;

  /// Reads a filter definition (FilterDefinition JSON); unknown keys are ignored.
  static SyncFilter from_json(const nlohmann::json& json);
};

/// Computes one sync answer for `user_id` since stream position `since` (0 =
/// initial). `full_state` sends complete state for every joined room.
nlohmann::json compute_sync(ServerState& state, const std::string& user_id, int64_t since, const SyncFilter& filter,
                            bool full_state);

/// True when a sync answer carries nothing but next_batch (so a long-poll may keep waiting).
bool sync_is_empty(const nlohmann::json& answer);

}  // namespace mxsim
