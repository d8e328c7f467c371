#pragma once
// What SqliteStateStore::open checks before it uses, or changes, a file:
// that it is an mxctl state store (or an empty database that may become
// one), and that it is not damaged. Private to the SQLite store and its
// tests.

#include <cstdint>
#include <string>

#include "model/result.h"

namespace adapters {

namespace sqlite {
class Database;
}

/// PRAGMA application_id of an mxctl state store: "mxct".
inline constexpr std::int64_t k_store_application_id = 0x6d786374;

/// What a file holds, as far as opening it is concerned.
enum class StoreFile {
  empty,  ///< no tables and schema version 0: a new store is made in it
  mxctl,  ///< an mxctl state store at schema `version`
};

/// Which StoreFile `db` (whose PRAGMA user_version is `version`) is; an
/// `invalid` error naming what the file holds instead when it is neither
/// (another program's database, or an mxctl schema missing its tables).
model::Result<StoreFile> identify_store(sqlite::Database& db, std::int64_t version);

/// The schema version from which every page of a store carries a checksum
/// (sqlite_checksum_vfs.h); older stores get them when first written.
inline constexpr std::int64_t k_checksummed_since = 6;

/// Bytes reserved at the end of each page of `db`'s main file: 8 when its
/// pages carry checksums, 0 for a file made without them.
int reserved_bytes(sqlite::Database& db);

/// Makes every page of `db` carry a checksum: a file with no pages yet
/// reserves the bytes for them (`empty`); one with pages is rewritten whole
/// (VACUUM, outside any transaction). Fails when SQLite would not.
model::Result<void> add_checksums(sqlite::Database& db, bool empty);

/// Nothing when PRAGMA quick_check finds nothing wrong: in the whole file
/// when `full`, else in the tables that guard against destruction and map
/// keys to rooms (small at any scale). Otherwise an `invalid` error with
/// SQLite's findings and what to do instead.
model::Result<void> check_integrity(sqlite::Database& db, bool full);

}  // namespace adapters
