#pragma once
// Where the desired state comes from: YAML manifests, the app database, or
// both combined (e.g. the power policies in YAML, the people and communities
// in the database). Whatever the mix, the result is one Topology validated
// once with model::validate_topology, so both sources obey the same rules.

#include <cstddef>
#include <string>
#include <vector>

#include "adapters/appdb/app_database_mapping.h"
#include "adapters/app_database_settings.h"
#include "adapters/manifests/yaml_manifests.h"
#include "model/diagnostic.h"
#include "model/settings.h"
#include "model/topology.h"

namespace adapters {

/// The merged desired topology and everything wrong with it.
struct LoadedDesired {
  model::Topology topology;
  /// Sorted; empty = valid and complete. A database that cannot be reached
  /// is a diagnostic here, never an empty topology.
  model::Diagnostics diagnostics;
  /// Manifest documents and files read (0 without paths).
  std::size_t documents = 0;
  std::size_t files = 0;
  /// Rows read from the database (0 without a uri).
  std::size_t rows = 0;
  /// The database uri with any password redacted; empty without one.
  std::string database;
  /// App row ids of what the database declared, for write-back.
  AppRowIds ids;

  /// "29 documents in 5 files", "57 rows from sqlite:///app.db", or both
  /// joined with " and ".
  std::string describe_sources() const;
};

/// Loads the manifests under `paths` (may be empty) and the app database at
/// `db_uri` (may be empty) and validates the union. Neither given is a
/// diagnostic, as is a database that returns no users and no communities
/// (an outage or a wrong replica must not look like "delete everything").
/// With only `paths` this is load_manifests. Either way model::check_limits
/// runs with `naming` (server name, alias prefix), so user IDs, aliases and
/// power levels too long for the homeserver are found before any write.
/// Never throws.
LoadedDesired load_desired(const std::vector<std::string>& paths, const std::string& db_uri,
                           const AppDatabaseSettings& settings, const model::Settings& naming = {});

/// load_desired(paths, "", ..., naming) from the manifests as read already:
/// a pass reads them once, to digest them, and parses what it digested.
LoadedDesired load_desired(ManifestTexts manifests, const model::Settings& naming = {});

}  // namespace adapters
