#pragma once
// `mxctl state migrate`: moving a SQLite state store into a PostgreSQL one,
// for replicas that share their store. The copy keeps everything as it is
// (run and audit ids, the serial a saved plan checks, snapshots, kept reads
// and verdicts), so that the first pass on the new store finds nothing to do
// that the old one would not have found.

#include <cstdint>
#include <string>
#include <vector>

#include "adapters/postgres/postgres_connection.h"
#include "model/result.h"

namespace adapters {

/// One table copied, and how many rows it holds on both sides.
struct MigratedTable {
  std::string name;
  std::int64_t rows = 0;
};

/// What a migration copied.
struct StoreMigration {
  /// The SQLite file copied from.
  std::string source;
  /// The destination database, password redacted.
  std::string destination;
  /// Every table copied, in the order copied (the lock is not: locks are
  /// not state; the meta row is counted in `serial`).
  std::vector<MigratedTable> tables;
  /// The serial both stores hold (what a saved plan checks).
  std::int64_t serial = 0;
  /// Rows in all tables together.
  std::int64_t total_rows() const;
};

/// How a migration talks to PostgreSQL; the defaults are the command's.
struct StoreMigrationOptions {
  postgres::Timeouts timeouts;
};

/// Copies the SQLite store at `sqlite_path` (checked and migrated to its
/// current schema by opening it) into the PostgreSQL store in the database
/// `postgres_uri` names (created there when missing).
///
/// Holds both stores' pass locks ("state migrate") throughout, so no pass
/// writes either meanwhile. Refuses, with nothing written to the
/// destination, a destination store that holds anything (a row in any
/// table but the lock, or a sync token, probe or serial): only an empty or
/// freshly created store is filled. The lock events of an otherwise empty
/// destination (a migration killed before it finished leaves its lock to
/// be taken over) are kept, after the copied audit log.
///
/// Every table is copied in one PostgreSQL transaction, all or nothing: ids
/// keep their values and the id sequences continue past the source's
/// (never reusing an id the source gave out), blobs arrive byte for byte,
/// and the meta row (sync token, probe, serial) is written last, so the
/// serial is the source's. Before committing, and again after, the row
/// count of every table is compared with the source's, and the serials:
/// any difference fails, naming the table.
///
/// Errors name the file and the database (password redacted) and say
/// whether anything was changed: `invalid` for a source that is not a
/// SQLite store file (a missing file is not made) or a destination that is
/// not a PostgreSQL URI, `conflict` for a destination that is not empty or
/// a store whose lock another pass holds; what the stores report otherwise.
model::Result<StoreMigration> migrate_sqlite_store_to_postgres(const std::string& sqlite_path,
                                                               const std::string& postgres_uri,
                                                               const StoreMigrationOptions& options = {});

}  // namespace adapters
