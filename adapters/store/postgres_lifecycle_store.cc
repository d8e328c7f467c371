// The lifecycle records of PostgresStateStore: archive times, tombstones,
// managed and suspended accounts, and protection, with the meaning and the
// write discipline of the SQLite store's (sqlite_lifecycle_store.cc).

#include <string>

#include "adapters/store/postgres_rows.h"
#include "adapters/store/postgres_state_store.h"
#include "adapters/store/store_time.h"

namespace adapters {

namespace {

using postgres::without_rows;

std::string text(const postgres::Value& value) { return value.value_or(""); }

// An integer column read back; anything but a whole integer is damage, never
// taken for another value.
model::Result<std::int64_t> stored_int64(const postgres::Value& value, std::string_view doing, std::string_view what) {
  if (auto number = postgres::integer_value<std::int64_t>(value)) {
    return *number;
  }
  return model::fail(model::Error::Kind::invalid,
                     "cannot " + std::string(doing) + ": " + std::string(what) + " is " +
                         (value ? "\"" + *value + "\"" : std::string("NULL")) +
                         ", not an integer; the state store is damaged");
}

}  // namespace

model::Result<std::map<std::string, std::int64_t>> PostgresStateStore::archive_records() {
  std::lock_guard guard(m_session->mutex);
  const char* doing = "read archive records";
  auto rows = query(doing, "SELECT key, archived_at FROM mxctl.archives");
  if (!rows) {
    return tl::unexpected(rows.error());
  }
  std::map<std::string, std::int64_t> out;
  for (const auto& row : rows->rows) {
    const std::string key = text(row.at(0));
    auto archived_at = stored_int64(row.at(1), doing, "mxctl.archives.archived_at of " + key);
    if (!archived_at) {
      return tl::unexpected(archived_at.error());
    }
    out[key] = *archived_at;
  }
  return out;
}

// Archive records are grouped: the archive time is also in the room's own
// archive event, which the next pass reads if the record was lost.
model::Result<void> PostgresStateStore::record_archive(const std::string& key, const std::string& room_id,
                                                       std::int64_t archived_at) {
  std::lock_guard guard(m_session->mutex);
  const std::string doing = "record the archive of " + key;
  return grouped(doing, [&] {
    return without_rows(query(doing,
                              "INSERT INTO mxctl.archives (key, room_id, archived_at) VALUES ($1, $2, $3::bigint) "
                              "ON CONFLICT (key) DO NOTHING",
                              {key, room_id, std::to_string(archived_at)}));
  });
}

model::Result<void> PostgresStateStore::clear_archive(const std::string& key) {
  std::lock_guard guard(m_session->mutex);
  const std::string doing = "clear the archive record of " + key;
  return grouped(doing, [&] { return without_rows(query(doing, "DELETE FROM mxctl.archives WHERE key = $1", {key})); });
}

// Durable at once: after the room is purged this record is the only trace
// of its deletion, and nothing on the homeserver could rebuild it. durable()
// runs it all or nothing (a savepoint inside a group): the tombstone and the
// forgetting go together.
model::Result<void> PostgresStateStore::record_tombstone(const Tombstone& tombstone) {
  std::lock_guard guard(m_session->mutex);
  const std::string doing = "record the deletion of " + tombstone.key;
  return durable(doing, [&]() -> model::Result<void> {
    auto inserted = without_rows(query(doing,
                                       "INSERT INTO mxctl.tombstones (key, room_id, archived_at, deleted_at) "
                                       "VALUES ($1, $2, $3::bigint, $4::bigint)",
                                       {tombstone.key, tombstone.room_id, std::to_string(tombstone.archived_at),
                                        std::to_string(tombstone.deleted_at)}));
    if (!inserted) {
      return inserted;
    }
    for (const char* sql :
         {"DELETE FROM mxctl.rooms WHERE key = $1", "DELETE FROM mxctl.archives WHERE key = $1",
          "DELETE FROM mxctl.messages_sent WHERE key = $1", "DELETE FROM mxctl.directs_set WHERE room_key = $1"}) {
      if (auto forgotten = without_rows(query(doing, sql, {tombstone.key})); !forgotten) {
        return forgotten;
      }
    }
    // A deleted room sends no "leave" to /sync, so its snapshot would
    // otherwise make incremental observation see it forever.
    return without_rows(query(doing, "DELETE FROM mxctl.room_snapshots WHERE room_id = $1", {tombstone.room_id}));
  });
}

model::Result<std::vector<Tombstone>> PostgresStateStore::tombstones() {
  std::lock_guard guard(m_session->mutex);
  const char* doing = "read tombstones";
  auto rows = query(doing, "SELECT key, room_id, archived_at, deleted_at FROM mxctl.tombstones ORDER BY id");
  if (!rows) {
    return tl::unexpected(rows.error());
  }
  std::vector<Tombstone> out;
  out.reserve(rows->rows.size());
  for (const auto& row : rows->rows) {
    Tombstone tombstone{text(row.at(0)), text(row.at(1)), 0, 0};
    auto archived_at = stored_int64(row.at(2), doing, "mxctl.tombstones.archived_at of " + tombstone.key);
    if (!archived_at) {
      return tl::unexpected(archived_at.error());
    }
    auto deleted_at = stored_int64(row.at(3), doing, "mxctl.tombstones.deleted_at of " + tombstone.key);
    if (!deleted_at) {
      return tl::unexpected(deleted_at.error());
    }
    tombstone.archived_at = *archived_at;
    tombstone.deleted_at = *deleted_at;
    out.push_back(std::move(tombstone));
  }
  return out;
}

model::Result<std::map<std::string, std::string>> PostgresStateStore::managed_accounts() {
  std::lock_guard guard(m_session->mutex);
  auto rows = query("read managed accounts", "SELECT key, user_id FROM mxctl.accounts");
  if (!rows) {
    return tl::unexpected(rows.error());
  }
  std::map<std::string, std::string> out;
  for (const auto& row : rows->rows) {
    out[text(row.at(0))] = text(row.at(1));
  }
  return out;
}

model::Result<void> PostgresStateStore::remember_account(const std::string& key, const std::string& user_id) {
  std::lock_guard guard(m_session->mutex);
  // Durable at once: the next pass finds the account again only while it is
  // still declared, and one removed from the desired state by then must
  // still be known as ours to be suspended.
  const std::string doing = "record managed account " + key;
  return durable(doing, [&]() -> model::Result<void> {
    // A key whose MXID changed replaces the row; the same MXID under another
    // key (a renamed user) moves with it, all or nothing (durable() makes it
    // a transaction, or a savepoint inside a group).
    auto moved =
        without_rows(query(doing, "DELETE FROM mxctl.accounts WHERE user_id = $1 AND key <> $2", {user_id, key}));
    if (!moved) {
      return moved;
    }
    return without_rows(query(doing,
                              "INSERT INTO mxctl.accounts (key, user_id, provisioned_at) VALUES ($1, $2, $3) "
                              "ON CONFLICT (key) DO UPDATE SET user_id = excluded.user_id "
                              "WHERE accounts.user_id IS DISTINCT FROM excluded.user_id",
                              {key, user_id, format_store_time(now())}));
  });
}

model::Result<std::set<std::string>> PostgresStateStore::suspended_accounts() {
  std::lock_guard guard(m_session->mutex);
  const char* doing = "read suspended accounts";
  return postgres_store::text_set(query(doing, "SELECT key FROM mxctl.accounts WHERE suspended = 1"), doing);
}

model::Result<void> PostgresStateStore::set_account_suspended(const std::string& key, bool suspended) {
  std::lock_guard guard(m_session->mutex);
  // Durable at once: Synapse's user list does not show suspension, so this
  // record is how the next pass knows.
  const std::string doing = "record the suspension of " + key;
  return durable(doing, [&] {
    return without_rows(
        query(doing, "UPDATE mxctl.accounts SET suspended = $2::integer WHERE key = $1 AND suspended <> $2::integer",
              {key, std::string(suspended ? "1" : "0")}));
  });
}

model::Result<std::set<std::string>> PostgresStateStore::protected_addresses() {
  std::lock_guard guard(m_session->mutex);
  const char* doing = "read protected objects";
  return postgres_store::text_set(query(doing, "SELECT address FROM mxctl.protected"), doing);
}

// What is pending is committed first, then this write on its own: durable
// when this returns, as the SQLite store's.
model::Result<void> PostgresStateStore::set_protected(const std::string& address, bool is_protected) {
  std::lock_guard guard(m_session->mutex);
  if (auto flushed = flush_locked(); !flushed) {
    return flushed;
  }
  const std::string doing = "record the protection of " + address;
  if (!is_protected) {
    return without_rows(query(doing, "DELETE FROM mxctl.protected WHERE address = $1", {address}));
  }
  return without_rows(
      query(doing, "INSERT INTO mxctl.protected (address, since) VALUES ($1, $2) ON CONFLICT (address) DO NOTHING",
            {address, format_store_time(now())}));
}

}  // namespace adapters
