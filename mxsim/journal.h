#pragma once
// The request journal and counters: every request the simulator answered
// (except its own control endpoint), so tests can assert what a client did,
// e.g. "this reconcile pass made 0 writes".

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace mxsim {

/// One answered request.
struct JournalEntry {
  uint64_t seq = 0;         ///< 1, 2, ... since start (not reset by reset())
  int64_t ts_ms = 0;        ///< when it was answered
  std::string method;
  std::string path;         ///< decoded path, without query
  std::string route;        ///< "PUT /_matrix/client/v3/rooms/{roomId}/state/{eventType}/{stateKey*}"
  int status = 0;           ///< 0 when the connection was dropped
  std::string user_id;      ///< authenticated user, "" when none
  std::string device_id;    ///< the device of the access token used, "" when none
  bool write = false;       ///< method other than GET/HEAD/OPTIONS
  bool fault = false;       ///< answered by an injected fault
  double duration_ms = 0;

  /// The entry as a JSON object.
  nlohmann::json to_json() const;
};

/// Totals since the last reset.
struct JournalStats {
  uint64_t requests = 0;
  uint64_t reads = 0;
  uint64_t writes = 0;
  uint64_t errors = 0;  ///< status >= 400 or dropped
  uint64_t faults = 0;
  std::map<std::string, uint64_t> by_route;   ///< route -> count
  std::map<int, uint64_t> by_status;

  /// {"requests","reads","writes","errors","faults","by_route":{...},"by_status":{"200":n}}
  nlohmann::json to_json() const;
};

/// Thread-safe journal with a bounded entry log and unbounded counters.
class Journal {
 public:
  /// Keeps at most `capacity` entries (oldest dropped first); counters are exact.
  explicit Journal(size_t capacity = 20000);

  /// Appends `entry` (its seq is assigned here) and counts it.
  void record(JournalEntry entry);
  /// Entries with seq > `after_seq`, oldest first.
  std::vector<JournalEntry> entries(uint64_t after_seq = 0) const;
  /// Counters since the last reset.
  JournalStats stats() const;
  /// Writes counted since the last reset.
  uint64_t writes() const;
  /// Reads counted since the last reset.
  uint64_t reads() const;
  /// Requests counted for `route` ("METHOD /template") since the last reset.
  uint64_t count(const std::string& route) const;
  /// The highest seq handed out so far (0 before any request).
  uint64_t last_seq() const;
  /// Clears counters and the entry log (seq keeps counting).
  void reset();

 private:
  mutable std::mutex m_mutex;
  size_t m_capacity;
  uint64_t m_seq = 0;
  std::deque<JournalEntry> m_entries;
  JournalStats m_stats;
};

}  // namespace mxsim
