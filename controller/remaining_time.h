#pragma once
// How long an apply has left, from the rate at which its operations settle.
// The rate-limit note printed before an apply can only assume Synapse's
// default limits; a server with relaxed limits settles operations many times
// faster than that, and only the measured rate can say so. Pure: the caller
// passes the times, so tests need no clock.

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

namespace controller {

/// The estimator. Not thread-safe; the progress callback owns one.
class RemainingTime {
 public:
  using Clock = std::chrono::steady_clock;

  struct Options {
    /// An estimate needs this many operations settled, or min_elapsed
    /// passed with at least one settled.
    std::size_t min_settled = 10;
    std::chrono::milliseconds min_elapsed{2000};
    /// Each rate sample spans at least this long, so a burst of operations
    /// settling together does not read as a rate of thousands a second.
    std::chrono::milliseconds window{1000};
    /// Weight of a window's sample against the smoothed rate (0 < w <= 1);
    /// a sample spanning n windows weighs as n samples would.
    double smoothing = 0.3;
  };

  /// An apply of `total` operations that started at `started`.
  RemainingTime(std::size_t total, Clock::time_point started);
  RemainingTime(std::size_t total, Clock::time_point started, Options options);

  /// One more operation settled, at `at` (times must not go backwards).
  void settled(Clock::time_point at);

  /// The time left as of `now`: the operations not yet settled over the
  /// smoothed rate. A rate sample still open counts once it spans a window,
  /// so a stall (a long rate-limit wait) lengthens the estimate. Zero when
  /// everything settled; nullopt while too little is known.
  std::optional<std::chrono::milliseconds> estimate(Clock::time_point now) const;

 private:
  std::size_t m_total;
  Clock::time_point m_started;
  Options m_options;
  std::size_t m_settled = 0;
  /// Operations per ms, smoothed over the closed windows; 0 before the first.
  double m_rate = 0;
  Clock::time_point m_window_start;
  std::size_t m_window_settled = 0;
};

/// The estimate as shown: "about 40 s left" (below a minute, in steps of
/// 5 s, at least 5), "about 2 min left" (below 90 min), "about 3 h 10 min
/// left" (in steps of 10 min).
std::string remaining_text(std::chrono::milliseconds left);

}  // namespace controller
