#pragma once
// How many requests an apply keeps in flight while the homeserver
// rate-limits it. Waiting out each 429 is not enough: eight workers that wait
// and come back together are refused together again. The window closes by
// half when a 429 comes and opens by one after a window's worth of attempts
// without one (additive increase, multiplicative decrease, as TCP's
// congestion window does), so a limited pass settles near the rate the server
// grants and speeds up again when the limit lifts.
//
// Only attempts started after the last decrease can decrease it again: the
// 429s of the attempts that were already in flight tell of the old window.

#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace controller {

/// The attempts an apply may have in flight, narrowed while 429s come.
class ConcurrencyWindow {
 public:
  /// A window of `max` attempts (values below 1 mean 1), wide open.
  explicit ConcurrencyWindow(int max);

  /// One attempt, from acquire() to release().
  struct Ticket {
    std::uint64_t number = 0;
  };

  /// Blocks while the window is full, then counts one more attempt in it.
  /// Thread-safe.
  Ticket acquire();

  /// The attempt of `ticket` is over; `rate_limited`: the homeserver refused
  /// it for the rate (the window may close), else it got an answer that was
  /// not a 429 (successes open it again).
  void release(Ticket ticket, bool rate_limited);

  /// Attempts allowed at once now.
  int size() const;

  /// The smallest size the window has had (for --stats and tests).
  int narrowest() const;

 private:
  mutable std::mutex m_mutex;
  std::condition_variable m_room;
  const int m_max;
  int m_size;
  int m_narrowest;
  int m_active = 0;
  int m_successes = 0;  // since the window last grew or shrank
  std::uint64_t m_issued = 0;
  std::uint64_t m_last_decrease = 0;  // tickets up to this one belong to a larger window
};

}  // namespace controller
