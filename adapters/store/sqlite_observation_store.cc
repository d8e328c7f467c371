// The observation cache of SqliteStateStore: room ids, sent messages,
// m.direct entries, the sync token and room snapshots, the reads of them
// (schema v10), the rooms written since the last observation (schema v5),
// and the cache a plan keeps.

#include "adapters/store/sqlite_db.h"
#include "adapters/store/sqlite_schema.h"
#include "adapters/store/sqlite_state_store.h"
#include "adapters/store/sqlite_store_lock.h"

namespace adapters {

namespace {

std::string now_text() { return format_store_time(std::chrono::system_clock::now()); }

// The WHERE makes re-recording the same id a no-op, so a converged pass
// neither writes nor moves the serial.
const char* const k_set_room_id =
    "INSERT INTO rooms (key, room_id, updated_at) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (key) DO UPDATE SET room_id = excluded.room_id, updated_at = excluded.updated_at "
    "WHERE rooms.room_id IS NOT excluded.room_id";
const char* const k_mark_message_sent =
    "INSERT INTO messages_sent (key, sent_at) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING";
const char* const k_mark_direct_set =
    "INSERT INTO directs_set (room_key, user_id, set_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING";
const char* const k_clear_room_written = "DELETE FROM rooms_written WHERE room_id = ?1";
const char* const k_set_sync_token = "UPDATE meta SET sync_token = ?1 WHERE id = 1 AND sync_token IS NOT ?1";

// Runs `sql` once per item of `items`, binding each with `bind`.
template <typename Items, typename Bind>
model::Result<void> for_each_item(sqlite::Database& db, const char* sql, std::string_view doing, const Items& items,
                                  Bind bind) {
  for (const auto& item : items) {
    if (auto ran = sqlite::run_statement(db, sql, doing, [&](sqlite::Statement& stmt) { bind(stmt, item); }); !ran) {
      return ran;
    }
  }
  return {};
}

// Every row of `sql` as a pair of its first two text columns, into `Map`
// (a map or a set of pairs).
template <typename Map>
model::Result<Map> read_pairs(sqlite::Database& db, const char* sql, std::string_view doing) {
  auto stmt = db.cached(sql, doing);
  if (!stmt) {
    return tl::unexpected(stmt.error());
  }
  Map out;
  auto read = sqlite::for_each_row(*stmt, doing,
                                   [&](sqlite::Statement& row) { out.emplace(row.text(0), row.text(1)); });
  if (!read) {
    return tl::unexpected(read.error());
  }
  return out;
}

}  // namespace

model::Result<std::map<std::string, std::string>> SqliteStateStore::room_ids() {
  return read_pairs<std::map<std::string, std::string>>(*m_db, "SELECT key, room_id FROM rooms", "read room ids");
}

model::Result<void> SqliteStateStore::set_room_id(const std::string& key, const std::string& room_id) {
  const std::string doing = "record room id for " + key;
  return grouped(doing, [&] {
    return sqlite::run_statement(*m_db, k_set_room_id, doing, [&](sqlite::Statement& stmt) {
      stmt.bind_text(1, key).bind_text(2, room_id).bind_text(3, now_text());
    });
  });
}

model::Result<void> SqliteStateStore::forget_room(const std::string& key) {
  if (auto flushed = flush(); !flushed) {
    return flushed;
  }
  const std::string doing = "forget room " + key;
  auto txn = sqlite::Transaction::begin(*m_db, doing);
  if (!txn) {
    return tl::unexpected(txn.error());
  }
  for (const char* sql : {"DELETE FROM rooms WHERE key = ?1", "DELETE FROM messages_sent WHERE key = ?1",
                          "DELETE FROM directs_set WHERE room_key = ?1"}) {
    if (auto ran = sqlite::run_statement(*m_db, sql, doing, [&](sqlite::Statement& stmt) { stmt.bind_text(1, key); });
        !ran) {
      return ran;
    }
  }
  return txn->commit(doing);
}

model::Result<std::set<std::string>> SqliteStateStore::messages_sent() {
  return sqlite::read_text_set(*m_db, "SELECT key FROM messages_sent", "read sent messages");
}

model::Result<void> SqliteStateStore::mark_message_sent(const std::string& key) {
  const std::string doing = "record message sent to " + key;
  return grouped(doing, [&] {
    return sqlite::run_statement(*m_db, k_mark_message_sent, doing, [&](sqlite::Statement& stmt) {
      stmt.bind_text(1, key).bind_text(2, now_text());
    });
  });
}

model::Result<std::set<std::pair<std::string, std::string>>> SqliteStateStore::directs_set() {
  return read_pairs<std::set<std::pair<std::string, std::string>>>(
      *m_db, "SELECT room_key, user_id FROM directs_set", "read direct chats set");
}

model::Result<void> SqliteStateStore::mark_direct_set(const std::string& room_key, const std::string& user_id) {
  const std::string doing = "record m.direct set for " + user_id + " in " + room_key;
  return grouped(doing, [&] {
    return sqlite::run_statement(*m_db, k_mark_direct_set, doing, [&](sqlite::Statement& stmt) {
      stmt.bind_text(1, room_key).bind_text(2, user_id).bind_text(3, now_text());
    });
  });
}

model::Result<void> SqliteStateStore::forget_directs(const std::string& room_key) {
  const std::string doing = "forget m.direct records of " + room_key;
  return grouped(doing, [&] {
    return sqlite::run_statement(*m_db, "DELETE FROM directs_set WHERE room_key = ?1", doing,
                                 [&](sqlite::Statement& stmt) { stmt.bind_text(1, room_key); });
  });
}

model::Result<std::string> SqliteStateStore::sync_token() {
  const char* doing = "read sync token";
  auto stmt = m_db->cached("SELECT sync_token FROM meta WHERE id = 1", doing);
  if (!stmt) {
    return tl::unexpected(stmt.error());
  }
  auto row = stmt->step(doing);
  if (!row) {
    return tl::unexpected(row.error());
  }
  return *row ? stmt->text(0) : std::string();
}

model::Result<void> SqliteStateStore::set_sync_token(const std::string& token) {
  if (auto flushed = flush(); !flushed) {
    return flushed;
  }
  return sqlite::run_statement(*m_db, k_set_sync_token, "record sync token",
                               [&](sqlite::Statement& stmt) { stmt.bind_text(1, token); });
}

model::Result<std::map<std::string, std::string>> SqliteStateStore::room_snapshots() {
  return read_pairs<std::map<std::string, std::string>>(*m_db, "SELECT room_id, state FROM room_snapshots",
                                                        "read room snapshots");
}

model::Result<std::map<std::string, std::string>> SqliteStateStore::room_snapshot_digests() {
  const char* doing = "read room snapshot digests";
  return read_pairs<std::map<std::string, std::string>>(*m_db, "SELECT room_id, digest FROM room_snapshots", doing);
}

model::Result<std::optional<std::string>> SqliteStateStore::room_snapshot(const std::string& room_id) {
  const char* doing = "read a room snapshot";
  auto stmt = m_db->cached("SELECT state FROM room_snapshots WHERE room_id = ?1", doing);
  if (!stmt) {
    return tl::unexpected(stmt.error());
  }
  stmt->bind_text(1, room_id);
  auto row = stmt->step(doing);
  if (!row) {
    return tl::unexpected(row.error());
  }
  if (!*row) {
    return std::optional<std::string>();
  }
  return std::optional<std::string>(stmt->text(0));
}

model::Result<void> SqliteStateStore::save_observation(
    const std::string& sync_token, const std::map<std::string, std::optional<std::string>>& changed) {
  if (auto flushed = flush(); !flushed) {
    return flushed;
  }
  const char* doing = "record observation";
  auto txn = sqlite::Transaction::begin(*m_db, doing);
  if (!txn) {
    return tl::unexpected(txn.error());
  }
  if (auto written = write_observation(sync_token, changed); !written) {
    return written;
  }
  return txn->commit(doing);
}

model::Result<void> SqliteStateStore::write_observation(
    const std::string& sync_token, const std::map<std::string, std::optional<std::string>>& changed) {
  const char* doing = "record observation";
  const std::string now = now_text();
  for (const auto& [room_id, state] : changed) {
    auto ran = sqlite::run_statement(
        *m_db,
        state ? "INSERT INTO room_snapshots (room_id, state, updated_at, digest) VALUES (?1, ?2, ?3, ?4) "
                "ON CONFLICT (room_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at, "
                "digest = excluded.digest"
              : "DELETE FROM room_snapshots WHERE room_id = ?1",
        doing, [&](sqlite::Statement& stmt) {
          stmt.bind_text(1, room_id);
          if (state) {
            stmt.bind_text(2, *state).bind_text(3, now).bind_text(4, snapshot_digest(*state));
          }
        });
    if (!ran) {
      return ran;
    }
  }
  return sqlite::run_statement(*m_db, k_set_sync_token, doing,
                               [&](sqlite::Statement& stmt) { stmt.bind_text(1, sync_token); });
}

model::Result<bool> SqliteStateStore::save_cache_unless_locked(const CacheUpdate& update) {
  const char* doing = "save the observation cache";
  // The lock is read inside the write transaction, so no pass can take it
  // between the check and the writes.
  auto locked = begin_at_lock_row(doing);
  if (!locked) {
    return tl::unexpected(locked.error());
  }
  if (locked->row && holder_state(*locked->row, now(), host_name(), m_options.lease) == LockHolder::live) {
    return false;
  }
  const std::string at = format_store_time(now());
  auto saved = for_each_item(*m_db, k_set_room_id, doing, update.room_ids,
                             [&](sqlite::Statement& stmt, const auto& room) {
                               stmt.bind_text(1, room.first).bind_text(2, room.second).bind_text(3, at);
                             });
  if (saved) {
    saved = write_observation(update.sync_token, update.changed_snapshots);
  }
  if (saved) {
    saved = for_each_item(*m_db, k_clear_room_written, doing, update.rooms_reread,
                          [](sqlite::Statement& stmt, const std::string& room_id) { stmt.bind_text(1, room_id); });
  }
  if (saved) {
    saved = for_each_item(*m_db, k_mark_message_sent, doing, update.messages_sent,
                          [&](sqlite::Statement& stmt, const std::string& key) {
                            stmt.bind_text(1, key).bind_text(2, at);
                          });
  }
  if (saved) {
    saved = for_each_item(*m_db, k_mark_direct_set, doing, update.directs_set,
                          [&](sqlite::Statement& stmt, const auto& direct) {
                            stmt.bind_text(1, direct.first).bind_text(2, direct.second).bind_text(3, at);
                          });
  }
  if (!saved) {
    return tl::unexpected(saved.error());
  }
  if (auto committed = locked->txn.commit(doing); !committed) {
    return tl::unexpected(committed.error());
  }
  return true;
}

model::Result<std::set<std::string>> SqliteStateStore::rooms_written() {
  return sqlite::read_text_set(*m_db, "SELECT room_id FROM rooms_written", "read the rooms written");
}

model::Result<void> SqliteStateStore::mark_room_written(const std::string& room_id) {
  const std::string doing = "record a write to " + room_id;
  return grouped(doing, [&] {
    return sqlite::run_statement(
        *m_db, "INSERT INTO rooms_written (room_id, written_at) VALUES (?1, ?2) ON CONFLICT (room_id) DO NOTHING",
        doing, [&](sqlite::Statement& stmt) { stmt.bind_text(1, room_id).bind_text(2, now_text()); });
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
  auto cleared = for_each_item(*m_db, k_clear_room_written, doing, room_ids,
                               [](sqlite::Statement& stmt, const std::string& room_id) { stmt.bind_text(1, room_id); });
  if (!cleared) {
    return cleared;
  }
  return txn->commit(doing);
}

model::Result<std::map<std::string, KeptRoomRead>> SqliteStateStore::room_reads() {
  const char* doing = "read the kept room reads";
  auto stmt = m_db->cached("SELECT room_id, digest, read FROM room_reads", doing);
  if (!stmt) {
    return tl::unexpected(stmt.error());
  }
  std::map<std::string, KeptRoomRead> reads;
  for (;;) {
    auto row = stmt->step(doing);
    if (!row) {
      return tl::unexpected(row.error());
    }
    if (!*row) {
      return reads;
    }
    reads[stmt->text(0)] = KeptRoomRead{stmt->text(1), stmt->blob(2)};
  }
}

model::Result<void> SqliteStateStore::keep_room_reads(const std::map<std::string, KeptRoomRead>& reads) {
  if (auto flushed = flush(); !flushed) {
    return flushed;
  }
  const char* doing = "keep the room reads";
  auto txn = sqlite::Transaction::begin(*m_db, doing);
  if (!txn) {
    return tl::unexpected(txn.error());
  }
  auto kept = for_each_item(*m_db,
                            "INSERT INTO room_reads (room_id, digest, read) VALUES (?1, ?2, ?3) "
                            "ON CONFLICT (room_id) DO UPDATE SET digest = excluded.digest, read = excluded.read",
                            doing, reads, [](sqlite::Statement& stmt, const auto& item) {
                              const auto& [room_id, read] = item;
                              stmt.bind_text(1, room_id).bind_text(2, read.digest).bind_blob(3, read.read);
                            });
  if (!kept) {
    return kept;
  }
  if (auto pruned = sqlite::run_statement(
          *m_db, "DELETE FROM room_reads WHERE room_id NOT IN (SELECT room_id FROM room_snapshots)", doing,
          [](sqlite::Statement&) {});
      !pruned) {
    return pruned;
  }
  return txn->commit(doing);
}

model::Result<std::optional<KeptProbe>> SqliteStateStore::kept_probe() {
  const char* doing = "read the kept probe";
  auto stmt = m_db->cached("SELECT probe_key, probe_answer, probe_taken_at FROM meta WHERE id = 1", doing);
  if (!stmt) {
    return tl::unexpected(stmt.error());
  }
  auto row = stmt->step(doing);
  if (!row) {
    return tl::unexpected(row.error());
  }
  if (!*row || stmt->text(0).empty()) {
    return std::optional<KeptProbe>();
  }
  return std::optional<KeptProbe>(KeptProbe{stmt->text(0), stmt->text(1), stmt->int64(2)});
}

model::Result<void> SqliteStateStore::keep_probe(const KeptProbe& probe) {
  if (auto flushed = flush(); !flushed) {
    return flushed;
  }
  return sqlite::run_statement(
      *m_db, "UPDATE meta SET probe_key = ?1, probe_answer = ?2, probe_taken_at = ?3 WHERE id = 1",
      "keep the probe", [&](sqlite::Statement& stmt) {
        stmt.bind_text(1, probe.key).bind_text(2, probe.answer).bind_int64(3, probe.taken_at_ms);
      });
}

}  // namespace adapters
