#pragma once
// Rows of the app database → model::Topology. One query per object kind
// (users, their linked accounts, communities, community members, councils,
// council members, accepted requests), each returning named columns; the
// defaults read FT-17's schema as shipped in manifests/app-schema.sql and an
// operator may replace any of them in the config file (appDatabase.queries).
//
// Every problem is a Diagnostic located as "table communities row riverside
// column config" (SourceLocation with line 0), so that validate_topology's
// messages about a row point at the row and column too. The columns each
// query must return are documented in README.md ("Database source").

#include <cstddef>
#include <map>
#include <string>

#include "adapters/appdb/app_database.h"
#include "adapters/app_database_settings.h"
#include "model/diagnostic.h"
#include "model/topology.h"

namespace adapters {

/// The default query for `kind` (one of k_app_query_kinds); empty if unknown.
const std::string& default_app_query(const std::string& kind);

/// App row ids of the objects read, for write-back: topology key → the
/// query's `id` column (absent when the query returns no `id`).
struct AppRowIds {
  std::map<std::string, std::string> users;
  std::map<std::string, std::string> communities;
  std::map<std::string, std::string> councils;
  std::map<std::string, std::string> requests;
};

/// What reading the database produced.
struct AppDatabaseRead {
  /// Users, communities, councils and coordination rooms; never power
  /// policies (those stay in manifests). Not validated: the caller merges it
  /// with the manifests and runs validate_topology once.
  model::Topology topology;
  /// Structural problems: SQL errors, missing/unknown columns, wrong types,
  /// bad config JSON. Empty means the topology is complete.
  model::Diagnostics diagnostics;
  AppRowIds ids;
  /// False when the snapshot could not be started or a query failed or
  /// returned the wrong columns: some kinds are missing entirely.
  bool complete = true;
  /// Rows read in all.
  std::size_t rows = 0;
};

/// Runs every query inside one read snapshot of `db` (begin_snapshot) and
/// converts the rows. A query failing (SQL error, lost connection) is a
/// diagnostic naming the query; the rest still run so all problems show at
/// once. Never throws.
AppDatabaseRead read_app_database(AppDatabase& db, const AppDatabaseSettings& settings);

}  // namespace adapters
