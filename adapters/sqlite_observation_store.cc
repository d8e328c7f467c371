// The half of SqliteStateStore that steers the next observation beyond the
// sync token (schema v5): the rooms mxctl wrote to since the last one, and
// the room creations in the journal.

#include "adapters/sqlite_db.h"
#include "adapters/sqlite_schema.h"
#include "adapters/sqlite_state_store.h"

namespace adapters {

namespace {

// The first column of every row of `stmt`, through `map` (nullopt: skipped).
template <typename Map>
model::Result<std::set<std::string>> read_column(sqlite::Statement& stmt, const char* doing, Map map) {
  std::set<std::string> out;
  for (;;) {
    auto row = stmt.step(doing);
    if (!row) {
      return tl::unexpected(row.error());
    }
    if (!*row) {
      return out;
    }
    if (std::optional<std::string> value = map(stmt.text(0))) {
      out.insert(std::move(*value));
    }
  }
}

}  // namespace

model::Result<std::set<std::string>> SqliteStateStore::rooms_written() {
  const char* doing = "read the rooms written";
  auto stmt = m_db->cached("SELECT room_id FROM rooms_written", doing);
  if (!stmt) {
    return tl::unexpected(stmt.error());
  }
  return read_column(*stmt, doing, [](std::string room_id) { return std::optional<std::string>(room_id); });
}

model::Result<void> SqliteStateStore::mark_room_written(const std::string& room_id) {
  const std::string doing = "record a write to " + room_id;
  return grouped(doing, [&]() -> model::Result<void> {
    auto stmt = m_db->cached(
        "INSERT INTO rooms_written (room_id, written_at) VALUES (?1, ?2) ON CONFLICT (room_id) DO NOTHING", doing);
    if (!stmt) {
      return tl::unexpected(stmt.error());
    }
    stmt->bind_text(1, room_id).bind_text(2, format_store_time(std::chrono::system_clock::now()));
    if (auto ran = stmt->run(doing); !ran) {
      return tl::unexpected(ran.error());
    }
    return {};
  });
}

model::Result<void> SqliteStateStore::clear_rooms_written(const std::set<std::string>& room_ids) {
  if (auto flushed = flush(); !flushed) {
    return flushed;
  }
  if (room_ids.empty()) {
    return {};
  }
  const char* doing = "forget the rooms re-read";
  auto txn = sqlite::Transaction::begin(*m_db, doing);
  if (!txn) {
    return tl::unexpected(txn.error());
  }
  for (const std::string& room_id : room_ids) {
    auto stmt = m_db->cached("DELETE FROM rooms_written WHERE room_id = ?1", doing);
    if (!stmt) {
      return tl::unexpected(stmt.error());
    }
    stmt->bind_text(1, room_id);
    if (auto ran = stmt->run(doing); !ran) {
      return tl::unexpected(ran.error());
    }
  }
  return txn->commit(doing);
}

model::Result<std::set<std::string>> SqliteStateStore::journaled_room_creations() {
  const char* doing = "read the room creations in the journal";
  // The WHERE repeats the partial index's own condition, which is what lets
  // SQLite use it.
  auto stmt = m_db->cached("SELECT DISTINCT operation FROM journal WHERE operation LIKE 'create room %'", doing);
  if (!stmt) {
    return tl::unexpected(stmt.error());
  }
  static const std::string k_prefix = "create room ";
  return read_column(*stmt, doing, [](const std::string& operation) -> std::optional<std::string> {
    // LIKE ignores ASCII case; only mxctl's own wording counts.
    if (operation.rfind(k_prefix, 0) != 0 || operation.size() == k_prefix.size()) {
      return std::nullopt;
    }
    return operation.substr(k_prefix.size());
  });
}

}  // namespace adapters
