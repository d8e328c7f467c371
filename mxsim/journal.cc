#include "mxsim/journal.h"

namespace mxsim {

nlohmann::json JournalEntry::to_json() const {
  return {{"seq", seq},       {"ts", ts_ms},          {"method", method}, {"path", path},
          {"route", route},   {"status", status},     {"user_id", user_id}, {"device_id", device_id}, {"write", write},
          {"fault", fault},   {"duration_ms", duration_ms}};
}

nlohmann::json JournalStats::to_json() const {
  nlohmann::json statuses = nlohmann::json::object();
  for (const auto& [status, count] : by_status) {
    statuses[std::to_string(status)] = count;
  }
  nlohmann::json routes = nlohmann::json::object();
  for (const auto& [route, count] : by_route) {
    routes[route] = count;
  }
  return {{"requests", requests}, {"reads", reads},       {"writes", writes},        {"errors", errors},
          {"faults", faults},     {"by_route", routes}, {"by_status", statuses}};
}

Journal::Journal(size_t capacity) : m_capacity(capacity) {}

void Journal::record(JournalEntry entry) {
  std::lock_guard lock(m_mutex);
  entry.seq = ++m_seq;
  ++m_stats.requests;
  if (entry.write) {
    ++m_stats.writes;
  } else {
    ++m_stats.reads;
  }
  if (entry.status == 0 || entry.status >= 400) {
    ++m_stats.errors;
  }
  if (entry.fault) {
    ++m_stats.faults;
  }
  ++m_stats.by_route[entry.route];
  ++m_stats.by_status[entry.status];
  m_entries.push_back(std::move(entry));
  while (m_entries.size() > m_capacity) {
    m_entries.pop_front();
  }
}

std::vector<JournalEntry> Journal::entries(uint64_t after_seq) const {
  std::lock_guard lock(m_mutex);
  std::vector<JournalEntry> out;
  for (const auto& entry : m_entries) {
    if (entry.seq > after_seq) {
      out.push_back(entry);
    }
  }
  return out;
}

JournalStats Journal::stats() const {
  std::lock_guard lock(m_mutex);
  return m_stats;
}

uint64_t Journal::writes() const {
  std::lock_guard lock(m_mutex);
  return m_stats.writes;
}

uint64_t Journal::reads() const {
  std::lock_guard lock(m_mutex);
  return m_stats.reads;
}

uint64_t Journal::count(const std::string& route) const {
  std::lock_guard lock(m_mutex);
  auto it = m_stats.by_route.find(route);
  return it == m_stats.by_route.end() ? 0 : it->second;
}

uint64_t Journal::last_seq() const {
  std::lock_guard lock(m_mutex);
  return m_seq;
}

void Journal::reset() {
  std::lock_guard lock(m_mutex);
  m_entries.clear();
  m_stats = JournalStats{};
}

}  // namespace mxsim
