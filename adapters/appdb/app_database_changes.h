#pragma once
// Whether the app database may have changed since the last look, cheaply:
// what lets `mxctl run`'s periodic poll skip the full load and compile of a
// database nobody wrote to. One connection stays open between looks, since
// SQLite's data_version only compares within one connection.

#include <memory>
#include <string>

namespace adapters {

class AppDatabase;

/// Fingerprints of one app database, taken on a connection of its own.
class AppDatabaseChanges {
 public:
  /// Opens nothing yet: the first fingerprint() connects to `uri`.
  explicit AppDatabaseChanges(std::string uri);
  ~AppDatabaseChanges();
  AppDatabaseChanges(const AppDatabaseChanges&) = delete;
  AppDatabaseChanges& operator=(const AppDatabaseChanges&) = delete;

  /// A token that differs from every earlier one whenever data was
  /// committed in between (it may differ when nothing was). Taken before a
  /// load, an equal token later means the load is still current. Empty
  /// when none can be had (no connection, the file replaced): load then;
  /// the next look connects again, and no token of a new connection equals
  /// one of an old.
  std::string fingerprint();

 private:
  std::string m_uri;
  std::unique_ptr<AppDatabase> m_db;
  int m_connections = 0;
};

}  // namespace adapters
