#include "controller/remaining_time.h"

#include <algorithm>
#include <cmath>

namespace controller {

namespace {

double ms_between(RemainingTime::Clock::time_point from, RemainingTime::Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

// The weight of a sample spanning `span` ms: `smoothing` per window's length,
// so a sample spanning several windows (a stall) counts as that many.
double weight(const RemainingTime::Options& options, double span) {
  return 1 - std::pow(1 - options.smoothing, span / static_cast<double>(options.window.count()));
}

}  // namespace

RemainingTime::RemainingTime(std::size_t total, Clock::time_point started)
    : RemainingTime(total, started, Options{}) {}

RemainingTime::RemainingTime(std::size_t total, Clock::time_point started, Options options)
    : m_total(total), m_started(started), m_options(options), m_window_start(started) {}

void RemainingTime::settled(Clock::time_point at) {
  ++m_settled;
  ++m_window_settled;
  const double span = ms_between(m_window_start, at);
  if (span < static_cast<double>(m_options.window.count()) || span <= 0) {
    return;
  }
  const double sample = static_cast<double>(m_window_settled) / span;
  const double w = weight(m_options, span);
  m_rate = m_rate == 0 ? sample : w * sample + (1 - w) * m_rate;
  m_window_start = at;
  m_window_settled = 0;
}

std::optional<std::chrono::milliseconds> RemainingTime::estimate(Clock::time_point now) const {
  if (m_settled >= m_total) {
    return std::chrono::milliseconds::zero();
  }
  const double elapsed = ms_between(m_started, now);
  const bool enough = m_settled >= m_options.min_settled ||
                      (m_settled > 0 && elapsed >= static_cast<double>(m_options.min_elapsed.count()));
  if (!enough || elapsed <= 0) {
    return std::nullopt;
  }
  // Before the first window closes, the rate since the start is all there is.
  double rate = m_rate > 0 ? m_rate : static_cast<double>(m_settled) / elapsed;
  const double open_span = ms_between(m_window_start, now);
  if (m_rate > 0 && open_span >= static_cast<double>(m_options.window.count())) {
    const double open_sample = static_cast<double>(m_window_settled) / open_span;
    const double w = weight(m_options, open_span);
    rate = w * open_sample + (1 - w) * rate;
  }
  if (rate <= 0) {
    return std::nullopt;
  }
  // Capped (at a year) so that a rate near zero cannot overflow the result.
  const double left = std::min(static_cast<double>(m_total - m_settled) / rate, 365.0 * 24 * 3600 * 1000);
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(left)));
}

std::string remaining_text(std::chrono::milliseconds left) {
  const std::int64_t seconds = (left.count() + 999) / 1000;
  const std::int64_t in_fives = std::max<std::int64_t>(5, (seconds + 4) / 5 * 5);
  if (in_fives < 60) {
    return "about " + std::to_string(in_fives) + " s left";
  }
  const std::int64_t minutes = std::max<std::int64_t>(1, (seconds + 30) / 60);
  if (minutes < 90) {
    return "about " + std::to_string(minutes) + " min left";
  }
  const std::int64_t tens = (minutes + 5) / 10;
  const std::int64_t hours = tens / 6;
  const std::int64_t rest = tens % 6 * 10;
  return "about " + std::to_string(hours) + " h" + (rest ? " " + std::to_string(rest) + " min" : "") + " left";
}

}  // namespace controller
