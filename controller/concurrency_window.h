#pragma once
// How many requests an apply keeps in flight. One default must serve a
// small server and a large one, so the window adapts, as TCP's congestion
// window does:
// - a 429 closes it by half: waiting out each 429 is not enough, since
//   workers that wait and come back together are refused together again;
// - after each window's worth of answers, the requests the server was
//   holding in a queue are estimated from their latency (TCP Vegas: the
//   window times the share of each latency beyond the fastest answer of the
//   same kind, since a room creation is not an invite). More than three
//   queued: one fewer in flight, as more would only lengthen the queue.
//   Fewer than one: one more, up to the maximum, since the server answers
//   as fast with more in flight. In between it stays: a server that works
//   one request at a time is kept busy with a few waiting.
// The fastest answers must be seen before the server has a queue, so the
// window starts small and, until it first closes or a queue shows, doubles
// instead of opening by one (TCP's slow start).
// Latencies within ten milliseconds of the fastest (or within the fastest
// answer's own time, if that is shorter, but at least a millisecond) are
// scheduling noise, not a queue.
//
// Only attempts started after the last decrease can decrease it again: the
// answers of the attempts that were already in flight tell of the old window.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>

namespace controller {

/// The attempts an apply may have in flight, adapted to the server's answers.
class ConcurrencyWindow {
 public:
  using Clock = std::chrono::steady_clock;

  /// A window of at most `max` attempts (values below 1 mean 1) that starts
  /// at `start` (clamped to 1 .. max).
  ConcurrencyWindow(int start, int max);
  /// A window of `max` attempts, wide open.
  explicit ConcurrencyWindow(int max) : ConcurrencyWindow(max, max) {}

  /// One attempt, from acquire() to release().
  struct Ticket {
    std::uint64_t number = 0;
    int kind = 0;
    Clock::time_point started{};
  };

  /// Blocks while the window is full, then counts one more attempt of
  /// `kind` (requests of one kind take about as long) in it. Thread-safe.
  Ticket acquire(int kind = 0);

  /// The attempt of `ticket` is over; `rate_limited`: the homeserver refused
  /// it for the rate (the window closes by half), else it got an answer that
  /// was not a 429, whose latency (from acquire() to now) says how long the
  /// server's queue is.
  void release(Ticket ticket, bool rate_limited);
  /// The same with the latency given (for tests and callers that timed it).
  void release(Ticket ticket, bool rate_limited, Clock::duration latency);

  /// Attempts allowed at once now.
  int size() const;
  /// The smallest size the window has had (for --stats and tests).
  int narrowest() const;
  /// The largest size the window has had.
  int widest() const;

 private:
  mutable std::mutex m_mutex;
  std::condition_variable m_room;
  const int m_max;
  int m_size;
  int m_narrowest;
  int m_widest;
  int m_active = 0;
  bool m_slow_start = true;  // doubling, until it first closes or a queue shows
  int m_answers = 0;        // counted since the window last changed
  double m_queued_sum = 0;  // their estimates of the server's queue
  std::uint64_t m_issued = 0;
  std::uint64_t m_last_decrease = 0;  // tickets up to this one belong to a larger window
  std::map<int, Clock::duration> m_fastest;  // by kind
};

}  // namespace controller
