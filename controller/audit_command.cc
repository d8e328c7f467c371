// `mxctl audit`: the state store's audit log, oldest first, as a table for
// people or JSON for tools. Reading needs no lock: it never writes.

#include <algorithm>
#include <chrono>
#include <iostream>

#include <nlohmann/json.hpp>

#include "adapters/state_store.h"
#include "controller/clock.h"
#include "controller/commands.h"

namespace controller {

namespace {

std::int64_t to_ms(std::chrono::system_clock::time_point at) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
}

// "before -> after", or whichever side exists.
std::string change_text(const adapters::AuditEntry& entry) {
  if (!entry.before.empty() && !entry.after.empty()) {
    return entry.before + " -> " + entry.after;
  }
  return entry.before.empty() ? entry.after : entry.before + " -> (none)";
}

}  // namespace

int run_audit(const AuditOptions& options, Console& console) {
  // A reader: a store it cannot write is read as it is.
  auto store = adapters::open_state_store(options.state_path, adapters::StoreAccess::read_only_if_needed);
  if (!store) {
    console.err << "Error: " << store.error().message << "\n";
    return k_exit_error;
  }
  adapters::AuditQuery query;
  if (options.since) {
    // system_clock counts nanoseconds on Linux and overflows after 2262: a
    // later --since means "after everything" and is clamped to 2200.
    const std::int64_t k_year_2200_ms = 7'258'118'400'000;
    query.since = std::chrono::system_clock::time_point(
        std::chrono::milliseconds(std::min(*options.since, k_year_2200_ms)));
  }
  query.key = options.key;
  auto entries = (*store)->audit(query);
  if (!entries) {
    console.err << "Error: " << entries.error().message << "\n";
    return k_exit_error;
  }
  if (options.format == "json") {
    nlohmann::json out = {{"format_version", "1"}, {"entries", nlohmann::json::array()}};
    for (const adapters::AuditEntry& entry : *entries) {
      out["entries"].push_back({{"id", entry.id},
                                {"run", entry.run_id},
                                {"at", format_time(to_ms(entry.at))},
                                {"action", entry.action},
                                {"key", entry.key},
                                {"target", entry.target},
                                {"before", entry.before},
                                {"after", entry.after},
                                {"result", entry.result},
                                {"message", entry.message}});
    }
    console.out << out.dump(2) << "\n";
    return k_exit_ok;
  }
  if (entries->empty()) {
    console.out << "No audit entries" << (options.key.empty() && !options.since ? "" : " match") << ".\n";
    return k_exit_ok;
  }
  for (const adapters::AuditEntry& entry : *entries) {
    console.out << format_time(to_ms(entry.at)) << "  run " << entry.run_id << "  " << entry.result << "  "
                << entry.action << "  " << entry.key;
    if (!entry.target.empty()) {
      console.out << " (" << entry.target << ")";
    }
    if (std::string change = change_text(entry); !change.empty()) {
      console.out << ": " << change;
    }
    if (!entry.message.empty()) {
      console.out << "  [" << entry.message << "]";
    }
    console.out << "\n";
  }
  return k_exit_ok;
}

}  // namespace controller
