#include "controller/concurrency_window.h"

#include <algorithm>

namespace controller {

namespace {

constexpr double k_least_queued = 1;
constexpr double k_most_queued = 3;

// The requests the server held queued, estimated from one answer's latency
// against the fastest of its kind with `size` in flight. Excess latency
// within the noise floor is no queue: ten milliseconds, or the fastest
// answer if quicker (at least one), since a server that answers within a
// millisecond shows its queue in milliseconds.
double queued(ConcurrencyWindow::Clock::duration latency, ConcurrencyWindow::Clock::duration fastest, int size) {
  const ConcurrencyWindow::Clock::duration floor =
      std::clamp<ConcurrencyWindow::Clock::duration>(fastest, std::chrono::milliseconds(1), std::chrono::milliseconds(10));
  if (latency - fastest < floor) {
    return 0;
  }
  const double ratio = std::chrono::duration<double>(fastest) / std::chrono::duration<double>(latency);
  return static_cast<double>(size) * (1 - ratio);
}

}  // namespace

ConcurrencyWindow::ConcurrencyWindow(int start, int max)
    : m_max(std::max(1, max)),
      m_size(std::clamp(start, 1, m_max)),
      m_narrowest(m_size),
      m_widest(m_size) {}

ConcurrencyWindow::Ticket ConcurrencyWindow::acquire(int kind) {
  std::unique_lock<std::mutex> lock(m_mutex);
  m_room.wait(lock, [this] { return m_active < m_size; });
  ++m_active;
  return Ticket{++m_issued, kind, Clock::now()};
}

void ConcurrencyWindow::release(Ticket ticket, bool rate_limited) {
  release(ticket, rate_limited, Clock::now() - ticket.started);
}

void ConcurrencyWindow::release(Ticket ticket, bool rate_limited, Clock::duration latency) {
  bool grew = false;
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    const int before = m_size;
    --m_active;
    const bool current = ticket.number > m_last_decrease;
    auto resize = [&](int size) {
      if (size < m_size) {
        m_last_decrease = m_issued;
        m_slow_start = false;
      }
      m_size = std::clamp(size, 1, m_max);
      m_narrowest = std::min(m_narrowest, m_size);
      m_widest = std::max(m_widest, m_size);
      m_answers = 0;
      m_queued_sum = 0;
    };
    if (rate_limited) {
      m_slow_start = false;
      if (current) {
        resize(m_size / 2);
      }
    } else {
      auto [fastest, first] = m_fastest.try_emplace(ticket.kind, latency);
      if (!first && latency < fastest->second) {
        fastest->second = latency;
      }
      // An attempt sent with the window of before says nothing of this one.
      if (current) {
        m_queued_sum += queued(latency, fastest->second, m_size);
        if (++m_answers >= m_size) {
          const double queue = m_queued_sum / m_answers;
          if (queue > k_most_queued) {
            resize(m_size - 1);
          } else if (queue < k_least_queued) {
            resize(m_slow_start ? m_size * 2 : m_size + 1);
          } else {
            m_slow_start = false;
            resize(m_size);
          }
        }
      }
    }
    grew = m_size > before;
  }
  // One attempt ended, so one waiter may start; more only when the window
  // grew. Waking every waiter each time (workers beyond the window wait
  // here) cost a fifth of a cold apply's CPU at L.
  if (grew) {
    m_room.notify_all();
  } else {
    m_room.notify_one();
  }
}

int ConcurrencyWindow::size() const {
  std::lock_guard<std::mutex> lock(m_mutex);
  return m_size;
}

int ConcurrencyWindow::narrowest() const {
  std::lock_guard<std::mutex> lock(m_mutex);
  return m_narrowest;
}

int ConcurrencyWindow::widest() const {
  std::lock_guard<std::mutex> lock(m_mutex);
  return m_widest;
}

}  // namespace controller
