#include "adapters/appdb/desired_source.h"

#include <set>
#include <tuple>

#include "adapters/appdb/app_database.h"
#include "adapters/manifests/yaml_manifests.h"
#include "model/limits.h"
#include "model/validate.h"

namespace adapters {

namespace {

std::string plural(std::size_t count, const char* one, const char* many) {
  return std::to_string(count) + " " + (count == 1 ? one : many);
}

template <typename T>
void append(std::vector<T>& to, std::vector<T>& from) {
  to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
}

// False when the database could not be read at all; its partial topology
// would then only produce misleading semantic complaints.
bool read_database(const std::string& db_uri, const AppDatabaseSettings& settings, LoadedDesired& out) {
  out.database = redact_database_uri(db_uri);
  auto db = open_app_database(db_uri, false);
  if (!db) {
    out.diagnostics.push_back({{"database"}, db.error().message});
    return false;
  }
  AppDatabaseRead read = read_app_database(**db, settings);
  out.rows = read.rows;
  out.ids = std::move(read.ids);
  append(out.diagnostics, read.diagnostics);
  if (out.diagnostics.empty() && read.topology.users.empty() && read.topology.communities.empty()) {
    out.diagnostics.push_back({{"database"}, out.database +
                                                 " returned no users and no communities; an empty database is never "
                                                 "taken as the desired state (check the uri, the credentials and "
                                                 "the queries)"});
  }
  append(out.topology.users, read.topology.users);
  append(out.topology.communities, read.topology.communities);
  append(out.topology.councils, read.topology.councils);
  append(out.topology.coordination_rooms, read.topology.coordination_rooms);
  return read.complete;
}

// Adds `found` to `out`, except where a problem is already reported at the
// same position: a value that failed one check would only be reported
// again, less clearly, by the next.
void add_unreported(model::Diagnostics found, LoadedDesired& out) {
  std::set<std::tuple<std::string, int, int>> reported;
  for (const model::Diagnostic& diagnostic : out.diagnostics) {
    reported.emplace(diagnostic.where.file, diagnostic.where.line, diagnostic.where.column);
  }
  for (model::Diagnostic& diagnostic : found) {
    if (!reported.contains({diagnostic.where.file, diagnostic.where.line, diagnostic.where.column})) {
      out.diagnostics.push_back(std::move(diagnostic));
    }
  }
  model::sort_diagnostics(out.diagnostics);
}

}  // namespace

std::string LoadedDesired::describe_sources() const {
  std::string out;
  if (files > 0) {
    out = plural(documents, "document", "documents") + " in " + plural(files, "file", "files");
  }
  if (!database.empty()) {
    out += (out.empty() ? "" : " and ") + plural(rows, "row", "rows") + " from " + database;
  }
  return out;
}

LoadedDesired load_desired(ManifestTexts manifests, const model::Settings& naming) {
  LoadedManifests loaded = parse_manifest_texts(std::move(manifests), ManifestChecks::all);
  LoadedDesired out;
  out.topology = std::move(loaded.topology);
  out.diagnostics = std::move(loaded.diagnostics);
  out.documents = loaded.documents;
  out.files = loaded.files.size();
  add_unreported(model::check_limits(out.topology, naming), out);
  return out;
}

LoadedDesired load_desired(const std::vector<std::string>& paths, const std::string& db_uri,
                           const AppDatabaseSettings& settings, const model::Settings& naming) {
  LoadedDesired out;
  if (paths.empty() && db_uri.empty()) {
    out.diagnostics.push_back({{"desired state"}, "give manifest paths, --from-db URI, or both"});
    return out;
  }
  if (db_uri.empty()) {
    return load_desired(read_manifest_texts(paths), naming);
  }
  if (!paths.empty()) {
    LoadedManifests manifests = load_manifests(paths, ManifestChecks::structural_only);
    out.topology = std::move(manifests.topology);
    out.diagnostics = std::move(manifests.diagnostics);
    out.documents = manifests.documents;
    out.files = manifests.files.size();
  }
  if (!read_database(db_uri, settings, out)) {
    model::sort_diagnostics(out.diagnostics);
    return out;
  }
  add_unreported(model::validate_topology(out.topology), out);
  add_unreported(model::check_limits(out.topology, naming), out);
  return out;
}

}  // namespace adapters
