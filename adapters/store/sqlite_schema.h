#pragma once
// The state store's on-disk format: the ordered migrations that build its
// tables, and how times are written into them. Private to the SQLite store
// and its tests.

#include <chrono>
#include <cstdint>
#include <string>

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

/// `at` as ISO-8601 UTC, "2024-05-01T12:00:00.123Z", or without the
/// milliseconds ("2024-05-01T12:00:00Z") for messages. Stored as text so the
/// audit trail reads well in the sqlite3 shell and sorts in time order.
std::string format_store_time(std::chrono::system_clock::time_point at, bool with_millis = true);

/// Inverse of format_store_time (milliseconds optional); the epoch for text
/// that does not parse, which only hand-editing can produce.
std::chrono::system_clock::time_point parse_store_time(const std::string& text);

}  // namespace adapters
