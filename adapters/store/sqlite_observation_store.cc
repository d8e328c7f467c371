// The half of SqliteStateStore that steers the next observation beyond the
// sync token (schema v5): the rooms mxctl wrote to since the last one, and
// the room creations in the journal; and the observation cache a plan keeps.

#include "adapters/store/sqlite_db.h"
#include "adapters/store/sqlite_schema.h"
#include "adapters/store/sqlite_state_store.h"
#include "adapters/store/sqlite_store_lock.h"

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

// Runs `sql` once per item of `items`, binding each with `bind`.
template <typename Items, typename Bind>
model::Result<void> for_each_item(sqlite::Database& db, const char* sql, const char* doing, const Items& items,
                                  Bind bind) {
  for (const auto& item : items) {
    auto stmt = db.cached(sql, doing);
    if (!stmt) {
      return tl::unexpected(stmt.error());
    }
    bind(*stmt, item);
    if (auto ran = stmt->run(doing); !ran) {
      return tl::unexpected(ran.error());
    }
  }
  return {};
}

}  // namespace

model::Result<bool> SqliteStateStore::save_cache_unless_locked(const ObservationCache& cache) {
  if (auto flushed = flush(); !flushed) {
    return tl::unexpected(flushed.error());
  }
  const char* doing = "save the observation cache";
  // The lock is read inside the write transaction, so no pass can take it
  // between the check and the writes.
  auto txn = sqlite::Transaction::begin(*m_db, doing);
  if (!txn) {
    return tl::unexpected(txn.error());
  }
  auto held = read_lock_row(*m_db, true);
  if (!held) {
    return tl::unexpected(held.error());
  }
  if (*held && holder_state(**held, now(), host_name(), m_options.lease) == LockHolder::live) {
    return false;
  }
  const std::string at = format_store_time(now());
  auto saved = for_each_item(
      *m_db,
      "INSERT INTO rooms (key, room_id, updated_at) VALUES (?1, ?2, ?3) "
      "ON CONFLICT (key) DO UPDATE SET room_id = excluded.room_id, updated_at = excluded.updated_at "
      "WHERE rooms.room_id IS NOT excluded.room_id",
      doing, cache.room_ids, [&](sqlite::Statement& stmt, const auto& room) {
        stmt.bind_text(1, room.first).bind_text(2, room.second).bind_text(3, at);
      });
  if (saved) {
    saved = write_observation(cache.sync_token, cache.changed_snapshots);
  }
  if (saved) {
    saved = for_each_item(*m_db, "DELETE FROM rooms_written WHERE room_id = ?1", doing, cache.rooms_reread,
                          [](sqlite::Statement& stmt, const std::string& room_id) { stmt.bind_text(1, room_id); });
  }
  if (saved) {
    saved = for_each_item(*m_db, "INSERT INTO messages_sent (key, sent_at) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
                          doing, cache.messages_sent, [&](sqlite::Statement& stmt, const std::string& key) {
                            stmt.bind_text(1, key).bind_text(2, at);
                          });
  }
  if (saved) {
    saved = for_each_item(
        *m_db, "INSERT INTO directs_set (room_key, user_id, set_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING", doing,
        cache.directs_set, [&](sqlite::Statement& stmt, const auto& direct) {
          stmt.bind_text(1, direct.first).bind_text(2, direct.second).bind_text(3, at);
        });
  }
  if (!saved) {
    return tl::unexpected(saved.error());
  }
  if (auto committed = txn->commit(doing); !committed) {
    return tl::unexpected(committed.error());
  }
  return true;
}

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
