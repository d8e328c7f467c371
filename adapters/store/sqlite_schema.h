#pragma once
// The state store's on-disk format: the ordered migrations that build its
// tables. Private to the SQLite store
// and its tests.

#include <chrono>
#include <cstdint>
#include <string>

#include "adapters/store/store_time.h"
#include "model/result.h"

namespace adapters {

namespace sqlite {
class Database;
}

/// The refusal for a file written by a newer mxctl: "state store schema
/// version N is newer than this mxctl supports (M); upgrade mxctl".
std::string newer_schema_message(std::int64_t version);

/// Brings `db` up to SqliteStateStore::k_schema_version, one migration per
/// transaction, so an interrupted upgrade leaves the file at a known version.
/// Safe against another process migrating the same file at the same time.
/// Fails (invalid) on a schema newer than this build, leaving it untouched.
model::Result<void> migrate_schema(sqlite::Database& db);

}  // namespace adapters
