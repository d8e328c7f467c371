#pragma once
// The PostgreSQL store's schema and its migrations. Private to the
// PostgreSQL store and its tests.

#include <string>

#include "adapters/postgres/postgres_connection.h"
#include <cstdint>

#include "model/result.h"

namespace adapters::postgres_store {

/// The outcome of creating or migrating the schema.
struct Migrated {
  /// The schema did not exist: this opening made it.
  bool created = false;
};

/// Brings schema "mxctl" of `connection`'s database to the version this
/// build understands, one transaction per version under a transaction-level
/// advisory lock (so two processes opening a new database take turns).
/// Refuses a schema "mxctl" without the store's version table (not an mxctl
/// store) and a version newer than this build's, naming `where`.
model::Result<Migrated> migrate(postgres::Connection& connection);

/// The advisory-lock key of the pass lock of the store in this database.
std::int64_t pass_lock_key();

}  // namespace adapters::postgres_store
