#pragma once
// The long-running controller's log: one line per event, as text for a
// terminal or as one JSON object per line for journald and Loki
// (`--log-format json`). Thread-safe; each line is one write.

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

namespace controller {

enum class LogFormat { text, json };

/// Optional fields of a log line; empty ones are left out.
struct LogFields {
  /// The managed object: "room.community/riverside", "account.alice".
  std::string key;
  /// The operation or pass: "invite", "pass".
  std::string operation;
  std::string room_id;
  std::optional<std::chrono::milliseconds> duration;
};

enum class LogLevel { info, warning, error };

/// Writes log lines to a stream.
class LoopLog {
 public:
  /// `now_ms` gives the wall time of each line (ms since the epoch);
  /// empty: the system clock.
  LoopLog(std::ostream& out, LogFormat format, std::function<std::int64_t()> now_ms = {});

  void write(LogLevel level, std::string_view message, const LogFields& fields = {});
  void info(std::string_view message, const LogFields& fields = {}) { write(LogLevel::info, message, fields); }
  void warning(std::string_view message, const LogFields& fields = {}) {
    write(LogLevel::warning, message, fields);
  }
  void error(std::string_view message, const LogFields& fields = {}) { write(LogLevel::error, message, fields); }

 private:
  std::ostream& m_out;
  const LogFormat m_format;
  std::function<std::int64_t()> m_now_ms;
  std::mutex m_mutex;
};

/// "2026-12-06T11:40:00.123Z" for `ms` since the epoch.
std::string log_time(std::int64_t ms);

}  // namespace controller
