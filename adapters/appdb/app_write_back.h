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

#include "adapters/appdb/app_database.h"
#include "adapters/appdb/app_database_mapping.h"
#include "model/result.h"
#include "model/topology.h"

namespace adapters {

/// What a write-back changed, one line per written value, e.g.
/// "communities riverside: matrix_space_id = !abc:example.org".
struct WriteBackReport {
  std::vector<std::string> written;
};

/// What exists on the homeserver after the apply, from the state store.
struct MatrixIds {
  /// Room key → room id (StateStore::room_ids).
  std::map<std::string, std::string> rooms;
  /// User key → MXID of the accounts mxctl manages (StateStore::
  /// managed_accounts): a person whose account was never created (e.g.
  /// deactivated before it was) gets no mapping.
  std::map<std::string, std::string> accounts;
};

/// Writes the ids into `db` in one transaction: reads the current values
/// first and writes only those that differ, so a second run writes nothing.
/// An object whose room or account is not in `ids` yet is left alone. Any
/// failure rolls everything back and is returned. Never throws.
model::Result<WriteBackReport> write_back(AppDatabase& db, const model::Topology& topology, const AppRowIds& rows,
                                          const MatrixIds& ids);

/// Opens `db_uri` writable and runs write_back on it.
model::Result<WriteBackReport> write_back(const std::string& db_uri, const model::Topology& topology,
                                          const AppRowIds& rows, const MatrixIds& ids);

}  // namespace adapters
