// `mxctl state migrate --to URI` with the real binary: a SQLite store that
// converged the example instance against mxsim, moved to a real PostgreSQL
// in one command, plans there with no changes (rooms, messages, the lifecycle
// all came along); a second migration into the same database is refused,
// and what is not a PostgreSQL destination or a SQLite source is a usage
// error.

#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <string>

#include "tests/e2e/fixture.h"
#include "tests/support/postgres_server.h"
#include "tests/support/process.h"

namespace state_migrate_test {

TEST_CASE("e2e: state migrate moves the store to PostgreSQL, where the plan shows no changes",
          "[e2e][state_migrate]") {
  testing_support::PostgresServer* server = testing_support::shared_postgres_server();
  if (server == nullptr) {
    return;
  }
  e2e::Fixture fx;
  auto applied = fx.mxctl({"apply", fx.manifests(), "--yes"});
  INFO(applied.out << applied.err);
  REQUIRE(applied.exit_code == 0);

  const std::string name = testing_support::fresh_database_name();
  server->create_database(name);
  const std::string uri = server->uri(name);
  auto migrated = fx.mxctl({"state", "migrate", "--to", uri});
  INFO(migrated.out << migrated.err);
  REQUIRE(migrated.exit_code == 0);
  CHECK(migrated.out.rfind("Copied the state store " + fx.state() + " into " + uri + " (schema mxctl): ", 0) == 0);
  CHECK(migrated.out.find("\n  rooms ") != std::string::npos);
  CHECK(migrated.out.find("\n  audit ") != std::string::npos);
  CHECK(migrated.out.find("\n  lock ") == std::string::npos);
  CHECK(migrated.out.find("Check it: mxctl plan --state '" + uri +
                          "' MANIFESTS... should show no changes; then point MXCTL_STATE at it.\n") !=
        std::string::npos);

  auto env = fx.env();
  env["MXCTL_STATE"] = uri;
  auto plan = testing_support::run_process({MXCTL_BINARY, "plan", fx.manifests(), "--detailed-exitcode"}, env);
  INFO(plan.out << plan.err);
  CHECK(plan.exit_code == 0);
  CHECK(plan.out == "No changes. The homeserver matches the desired state.\n");

  // The store there holds the copy now: a second migration is refused.
  auto again = fx.mxctl({"state", "migrate", "--to", uri});
  CHECK(again.exit_code == 1);
  CHECK(again.err.find("is not empty") != std::string::npos);
  CHECK(again.err.find("nothing was changed in " + uri) != std::string::npos);
}

TEST_CASE("e2e: state migrate wants a PostgreSQL destination and a SQLite source", "[e2e][state_migrate]") {
  e2e::Fixture fx;
  SECTION("--to a file") {
    auto refused = fx.mxctl({"state", "migrate", "--to", fx.scratch("other.db")});
    CHECK(refused.exit_code != 0);
    CHECK(refused.exit_code != 1);  // a usage error, not a failed copy
    CHECK(refused.err.find("is not a PostgreSQL database: give a postgresql:// or postgres:// URI") !=
          std::string::npos);
  }
  SECTION("no --to") {
    auto refused = fx.mxctl({"state", "migrate"});
    CHECK(refused.exit_code != 0);
    CHECK(refused.err.find("--to is required") != std::string::npos);
  }
  SECTION("a source that is a PostgreSQL store, password redacted") {
    auto env = fx.env();
    env["MXCTL_STATE"] = "postgresql://mxctl:hunter2@db.example.org/mxctl";
    auto refused = testing_support::run_process(
        {MXCTL_BINARY, "state", "migrate", "--to", "postgresql://db.example.org/other"}, env);
    CHECK(refused.exit_code != 0);
    CHECK(refused.exit_code != 1);
    CHECK(refused.err.find("is a PostgreSQL store; state migrate copies a SQLite store") != std::string::npos);
    CHECK(refused.err.find("hunter2") == std::string::npos);
  }
  SECTION("a source that does not exist") {
    auto refused = fx.mxctl({"state", "migrate", "--to", "postgresql:///nowhere?host=/nonexistent"});
    CHECK(refused.exit_code == 1);
    CHECK(refused.err.find("there is no state store at " + fx.state()) != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(fx.state()));
  }
  SECTION("state alone asks for its subcommand") {
    auto refused = fx.mxctl({"state"});
    CHECK(refused.exit_code != 0);
  }
  SECTION("--help names both") {
    auto help = fx.mxctl({"state", "migrate", "--help"});
    CHECK(help.exit_code == 0);
    CHECK(help.out.find("--to") != std::string::npos);
    CHECK(help.out.find("--state") != std::string::npos);
  }
}

}  // namespace state_migrate_test
