#pragma once
// FT-17's write-back: after a successful apply the app learns the Matrix ids
// of what mxctl made for it (matrix_user_mappings, communities.matrix_space_id
// and matrix_general_room_id, councils.matrix_space_id and
// matrix_discussion_room_id, wealth_requests.matrix_coordination_room_id).
// Only objects that came from the database (with an `id` column) are written;
// the tables and columns are those of manifests/app-schema.sql.

#include <map>
#include <string>
#include <vector>

#include "adapters/app_database.h"
#include "adapters/app_database_mapping.h"
#include "model/result.h"
#include "model/settings.h"
#include "model/topology.h"

namespace adapters {

/// What a write-back changed, one line per written value, e.g.
/// "communities riverside: matrix_space_id = !abc:example.org".
struct WriteBackReport {
  std::vector<std::string> written;
};

/// Writes the ids into `db` in one transaction: reads the current values
/// first and writes only those that differ, so a second run writes nothing.
/// Room ids come from `room_ids` (the state store's key → room id map after
/// the apply); an object whose room is not there yet is left alone. Any
/// failure rolls everything back and is returned. Never throws.
model::Result<WriteBackReport> write_back(AppDatabase& db, const model::Topology& topology, const AppRowIds& ids,
                                          const model::Settings& settings,
                                          const std::map<std::string, std::string>& room_ids);

/// Opens `db_uri` writable and runs write_back on it.
model::Result<WriteBackReport> write_back(const std::string& db_uri, const model::Topology& topology,
                                          const AppRowIds& ids, const model::Settings& settings,
                                          const std::map<std::string, std::string>& room_ids);

}  // namespace adapters
