#include "controller/concurrency_window.h"

#include <algorithm>

namespace controller {

ConcurrencyWindow::ConcurrencyWindow(int max)
    : m_max(std::max(1, max)), m_size(m_max), m_narrowest(m_max) {}

ConcurrencyWindow::Ticket ConcurrencyWindow::acquire() {
  std::unique_lock<std::mutex> lock(m_mutex);
  m_room.wait(lock, [this] { return m_active < m_size; });
  ++m_active;
  return Ticket{++m_issued};
}

void ConcurrencyWindow::release(Ticket ticket, bool rate_limited) {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    --m_active;
    if (rate_limited) {
      if (ticket.number > m_last_decrease) {
        m_size = std::max(1, m_size / 2);
        m_narrowest = std::min(m_narrowest, m_size);
        m_last_decrease = m_issued;
        m_successes = 0;
      }
    } else if (m_size < m_max && ++m_successes >= m_size) {
      ++m_size;
      m_successes = 0;
    }
  }
  m_room.notify_all();
}

int ConcurrencyWindow::size() const {
  std::lock_guard<std::mutex> lock(m_mutex);
  return m_size;
}

int ConcurrencyWindow::narrowest() const {
  std::lock_guard<std::mutex> lock(m_mutex);
  return m_narrowest;
}

}  // namespace controller
