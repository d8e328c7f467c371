#pragma once
// The pass lock's row and how its holder is judged: alive while its lease
// runs, gone when the lease ran out or its process died on this host.
// Private to the SQLite store and its tests.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "adapters/store/lock_holder_identity.h"
#include "adapters/store/sqlite_db.h"
#include "model/result.h"

namespace adapters {

/// The lock row as stored (schema 6 and later: with its id and lease).
struct LockRow {
  std::int64_t pid = 0;
  std::string hostname;
  std::string command;
  std::string acquired_at;
  std::string lock_id;
  /// When the holder last renewed its lease; acquired_at before schema 6.
  std::string renewed_at;
  /// 0 for a row written before leases: the reader's own lease applies.
  std::int64_t lease_ms = 0;
};

/// A write transaction and the lock row as it read inside it, so that what
/// is done about the lock (take it, remove it, keep out of its way) cannot
/// race another process taking or dropping it.
struct LockRowTransaction {
  sqlite::Transaction txn;
  /// Nothing when the store is not locked.
  std::optional<LockRow> row;
};

/// Whether a lock's holder still holds it.
enum class LockHolder { live, dead, expired };

/// The lock row, or nothing when the store is not locked. `with_lease`:
/// the schema has the lease columns (version 6 and later).
model::Result<std::optional<LockRow>> read_lock_row(sqlite::Database& db, bool with_lease);

/// `dead` when the holder's pid no longer exists on this host (`host`), or
/// is this process's own while this process holds no lock of that id (a
/// restarted container's pid 1 finding its earlier run's lock); else
/// `expired` once `now` is past its last renewal plus its lease
/// (`default_lease` for rows without one), whatever the process (a pid can
/// be reused, and another host's cannot be checked); else `live`.
LockHolder holder_state(const LockRow& row, std::chrono::system_clock::time_point now, const std::string& host,
                        std::chrono::milliseconds default_lease);

/// True when the last pass looks as if it ended without releasing the
/// lock: a lock row whose holder is not live, or a run still recorded as
/// "running" while no live holder has the lock. `version` is the file's
/// schema version (before migrating).
model::Result<bool> crash_suspected(sqlite::Database& db, std::int64_t version,
                                    std::chrono::system_clock::time_point now, std::chrono::milliseconds default_lease);

}  // namespace adapters
