#pragma once
// A throwaway PostgreSQL server for tests: a fresh cluster (Debian's
// postgresql package: /usr/lib/postgresql/<version>/bin) in a temporary
// directory, listening only on a unix socket there, stopped and removed on
// destruction. As root (CI containers) the cluster runs as the `postgres`
// user, since initdb refuses root.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"

namespace testing_support {

class PostgresServer {
 public:
  /// Directory holding initdb/pg_ctl/psql of the newest installed version;
  /// nothing when PostgreSQL is not installed.
  static std::optional<std::string> find_binaries();

  /// Starts a cluster with the binaries in `bin_dir`; throws
  /// std::runtime_error (with initdb's or pg_ctl's output) when it cannot.
  explicit PostgresServer(const std::string& bin_dir);
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  /// Creates an empty database `name` (owned by the superuser `postgres`).
  void create_database(const std::string& name);
  /// "postgresql:///<name>?host=<socket dir>&user=postgres" for libpq.
  std::string uri(const std::string& name) const;
  /// "host=<socket dir> user=postgres dbname=<name>" (conninfo form).
  std::string conninfo(const std::string& name) const;

 private:
  /// Runs a PostgreSQL binary, as `postgres` when we are root.
  std::string run(const std::vector<std::string>& args, int& exit_code) const;

  std::string m_bin;
  TempDir m_dir;
  std::string m_data;
  std::string m_socket;
  bool m_started = false;
};

/// The one server a test process shares (started on first use, stopped at
/// exit), or nullptr when PostgreSQL is not installed: the caller then
/// skips with a WARN. Under CI (CI set and not "false") a missing
/// installation FAILs instead, so CI can never silently skip.
PostgresServer* shared_postgres_server();

/// A database name unique within this process ("t1", "t2", ...).
std::string fresh_database_name();

/// A new empty database on the shared server, as a postgresql:// URI;
/// empty when there is no server (see shared_postgres_server: the caller
/// then returns, having been warned, or failed under CI).
std::string fresh_database_uri();

}  // namespace testing_support
