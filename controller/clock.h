#pragma once
// Time, injectable: the lifecycle's decisions (archive dates, the end of a
// grace period) depend on "now", so tests and drills (`--now`) replace the
// clock instead of waiting 60 days.

#include <cstdint>
#include <optional>
#include <string>

namespace controller {

/// Where "now" comes from.
class Clock {
 public:
  virtual ~Clock() = default;
  /// Now, in ms since the Unix epoch (the unit of Matrix timestamps).
  virtual std::int64_t now_ms() const = 0;
};

/// The system's real-time clock.
class SystemClock final : public Clock {
 public:
  std::int64_t now_ms() const override;
};

/// A clock stopped at one instant.
class FixedClock final : public Clock {
 public:
  explicit FixedClock(std::int64_t now_ms) : m_now(now_ms) {}
  std::int64_t now_ms() const override { return m_now; }

 private:
  std::int64_t m_now;
};

/// Parses a time given on the command line (`--now`, `--since`): RFC 3339 in
/// UTC ("2026-11-23T10:00:00Z", fractional seconds allowed, "Z" or "+00:00")
/// or a plain date ("2026-11-23", midnight UTC). Nothing when the text is
/// neither, or names an impossible date.
std::optional<std::int64_t> parse_time_ms(const std::string& text);

/// "2026-11-23T10:00:00Z" for ms since the epoch (seconds precision).
std::string format_time(std::int64_t ms);

}  // namespace controller
