// The lifecycle records of SqliteStateStore: archive times, tombstones,
// managed and suspended accounts, and protection (schema v4).

#include "adapters/store/sqlite_db.h"
#include "adapters/store/sqlite_schema.h"
#include "adapters/store/sqlite_state_store.h"

namespace adapters {

model::Result<std::map<std::string, std::int64_t>> SqliteStateStore::archive_records() {
  const char* doing = "read archive records";
  auto stmt = m_db->cached("SELECT key, archived_at FROM archives", doing);
  if (!stmt) {
    return tl::unexpected(stmt.error());
  }
  std::map<std::string, std::int64_t> out;
  auto read = sqlite::for_each_row(*stmt, doing, [&](sqlite::Statement& row) { out[row.text(0)] = row.int64(1); });
  if (!read) {
    return tl::unexpected(read.error());
  }
  return out;
}

// Archive records are grouped: the archive time is also in the room's own
// archive event, which the next pass reads if the record was lost.
model::Result<void> SqliteStateStore::record_archive(const std::string& key, const std::string& room_id,
                                                     std::int64_t archived_at) {
  const std::string doing = "record the archive of " + key;
  return grouped(doing, [&] {
    return sqlite::run_statement(*m_db,
                         "INSERT INTO archives (key, room_id, archived_at) VALUES (?1, ?2, ?3) "
                         "ON CONFLICT (key) DO NOTHING",
                         doing, [&](sqlite::Statement& stmt) {
                           stmt.bind_text(1, key).bind_text(2, room_id).bind_int64(3, archived_at);
                         });
  });
}

model::Result<void> SqliteStateStore::clear_archive(const std::string& key) {
  const std::string doing = "clear the archive record of " + key;
  return grouped(doing, [&] {
    return sqlite::run_statement(*m_db, "DELETE FROM archives WHERE key = ?1", doing,
                         [&](sqlite::Statement& stmt) { stmt.bind_text(1, key); });
  });
}

// Durable at once: after the room is purged this record is the only trace
// of its deletion, and nothing on the homeserver could rebuild it.
model::Result<void> SqliteStateStore::record_tombstone(const Tombstone& tombstone) {
  const std::string doing = "record the deletion of " + tombstone.key;
  return durable(doing, [&]() -> model::Result<void> {
    // Its own transaction (a savepoint inside a group): the tombstone and
    // the forgetting go together.
    auto txn = sqlite::Transaction::begin(*m_db, doing);
    if (!txn) {
      return tl::unexpected(txn.error());
    }
    auto inserted = sqlite::run_statement(
        *m_db, "INSERT INTO tombstones (key, room_id, archived_at, deleted_at) VALUES (?1, ?2, ?3, ?4)", doing,
        [&](sqlite::Statement& stmt) {
          stmt.bind_text(1, tombstone.key)
              .bind_text(2, tombstone.room_id)
              .bind_int64(3, tombstone.archived_at)
              .bind_int64(4, tombstone.deleted_at);
        });
    if (!inserted) {
      return inserted;
    }
    for (const char* sql : {"DELETE FROM rooms WHERE key = ?1", "DELETE FROM archives WHERE key = ?1",
                            "DELETE FROM messages_sent WHERE key = ?1",
                            "DELETE FROM directs_set WHERE room_key = ?1"}) {
      auto ran =
          sqlite::run_statement(*m_db, sql, doing, [&](sqlite::Statement& stmt) { stmt.bind_text(1, tombstone.key); });
      if (!ran) {
        return ran;
      }
    }
    // A deleted room sends no "leave" to /sync, so its snapshot would
    // otherwise make incremental observation see it forever.
    auto forgotten = sqlite::run_statement(*m_db, "DELETE FROM room_snapshots WHERE room_id = ?1", doing,
                                   [&](sqlite::Statement& stmt) { stmt.bind_text(1, tombstone.room_id); });
    if (!forgotten) {
      return forgotten;
    }
    return txn->commit(doing);
  });
}

model::Result<std::vector<Tombstone>> SqliteStateStore::tombstones() {
  const char* doing = "read tombstones";
  auto stmt = m_db->cached("SELECT key, room_id, archived_at, deleted_at FROM tombstones ORDER BY id", doing);
  if (!stmt) {
    return tl::unexpected(stmt.error());
  }
  std::vector<Tombstone> out;
  auto read = sqlite::for_each_row(*stmt, doing, [&](sqlite::Statement& row) {
    out.push_back({row.text(0), row.text(1), row.int64(2), row.int64(3)});
  });
  if (!read) {
    return tl::unexpected(read.error());
  }
  return out;
}

model::Result<std::map<std::string, std::string>> SqliteStateStore::managed_accounts() {
  const char* doing = "read managed accounts";
  auto stmt = m_db->cached("SELECT key, user_id FROM accounts", doing);
  if (!stmt) {
    return tl::unexpected(stmt.error());
  }
  std::map<std::string, std::string> out;
  auto read = sqlite::for_each_row(*stmt, doing, [&](sqlite::Statement& row) { out[row.text(0)] = row.text(1); });
  if (!read) {
    return tl::unexpected(read.error());
  }
  return out;
}

model::Result<void> SqliteStateStore::remember_account(const std::string& key, const std::string& user_id) {
  // Durable at once: the next pass finds the account again only while it is
  // still declared, and one removed from the desired state by then must
  // still be known as ours to be suspended.
  const std::string doing = "record managed account " + key;
  return durable(doing, [&]() -> model::Result<void> {
    // A key whose MXID changed replaces the row; the same MXID under another
    // key (a renamed user) moves with it, in one transaction (a savepoint
    // inside a group).
    auto txn = sqlite::Transaction::begin(*m_db, doing);
    if (!txn) {
      return tl::unexpected(txn.error());
    }
    auto moved = sqlite::run_statement(*m_db, "DELETE FROM accounts WHERE user_id = ?1 AND key <> ?2", doing,
                               [&](sqlite::Statement& stmt) { stmt.bind_text(1, user_id).bind_text(2, key); });
    if (!moved) {
      return moved;
    }
    auto upserted = sqlite::run_statement(*m_db,
                                  "INSERT INTO accounts (key, user_id, provisioned_at) VALUES (?1, ?2, ?3) "
                                  "ON CONFLICT (key) DO UPDATE SET user_id = excluded.user_id "
                                  "WHERE accounts.user_id IS NOT excluded.user_id",
                                  doing, [&](sqlite::Statement& stmt) {
                                    stmt.bind_text(1, key).bind_text(2, user_id).bind_text(
                                        3, format_store_time(std::chrono::system_clock::now()));
                                  });
    if (!upserted) {
      return upserted;
    }
    return txn->commit(doing);
  });
}

model::Result<std::set<std::string>> SqliteStateStore::suspended_accounts() {
  return sqlite::read_text_set(*m_db, "SELECT key FROM accounts WHERE suspended = 1", "read suspended accounts");
}

model::Result<void> SqliteStateStore::set_account_suspended(const std::string& key, bool suspended) {
  // Durable at once: Synapse's user list does not show suspension, so this
  // record is how the next pass knows.
  const std::string doing = "record the suspension of " + key;
  return durable(doing, [&] {
    return sqlite::run_statement(*m_db, "UPDATE accounts SET suspended = ?2 WHERE key = ?1 AND suspended <> ?2", doing,
                         [&](sqlite::Statement& stmt) { stmt.bind_text(1, key).bind_int64(2, suspended ? 1 : 0); });
  });
}

model::Result<std::set<std::string>> SqliteStateStore::protected_addresses() {
  return sqlite::read_text_set(*m_db, "SELECT address FROM protected", "read protected objects");
}

model::Result<void> SqliteStateStore::set_protected(const std::string& address, bool is_protected) {
  if (auto flushed = flush(); !flushed) {
    return flushed;
  }
  const std::string doing = "record the protection of " + address;
  if (!is_protected) {
    return sqlite::run_statement(*m_db, "DELETE FROM protected WHERE address = ?1", doing,
                         [&](sqlite::Statement& stmt) { stmt.bind_text(1, address); });
  }
  return sqlite::run_statement(*m_db,
                       "INSERT INTO protected (address, since) VALUES (?1, ?2) ON CONFLICT (address) DO NOTHING",
                       doing, [&](sqlite::Statement& stmt) {
                         stmt.bind_text(1, address).bind_text(2, format_store_time(std::chrono::system_clock::now()));
                       });
}

}  // namespace adapters
