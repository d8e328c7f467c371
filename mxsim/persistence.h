#pragma once
// The state file: the homeserver's durable state (accounts, tokens, rooms with
// their events, aliases, filters, transactions, delete tasks) as one JSON
// document, written atomically, so a restarted simulator carries on where it
// stopped. Appservice registrations are not saved: they come from their files.

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "mxsim/state.h"

namespace mxsim {

class Homeserver;

/// The durable part of `state` as JSON (format_version 1).
nlohmann::json save_state(const ServerState& state);
/// Replaces the durable part of `state` with `json`. Throws std::runtime_error
/// (naming the problem) when the document is not a state file it understands.
void load_state(ServerState& state, const nlohmann::json& json);

/// Writes the homeserver's state to `path` (via a temporary file and rename).
/// Throws std::runtime_error when it cannot.
void write_state_file(Homeserver& homeserver, const std::string& path);
/// Loads `path` into the homeserver; false when the file does not exist.
/// Throws std::runtime_error when it exists but cannot be read or parsed.
bool read_state_file(Homeserver& homeserver, const std::string& path);

/// Saves the state to a file shortly after it changes (checked every
/// `interval_ms`) and once more when stopped.
class StateSaver {
 public:
  StateSaver(Homeserver& homeserver, std::string path, int interval_ms = 500);
  /// Stops (with a final save).
  ~StateSaver();
  StateSaver(const StateSaver&) = delete;
  StateSaver& operator=(const StateSaver&) = delete;
  /// Stops the background thread and saves if anything changed since the last save.
  void stop();

 private:
  void run();
  void save_if_changed();

  Homeserver& m_homeserver;
  std::string m_path;
  int m_interval_ms;
  uint64_t m_saved_revision = 0;
  std::mutex m_mutex;
  std::condition_variable m_wake;
  bool m_stopping = false;
  std::thread m_thread;
};

}  // namespace mxsim
