// The real mxctl binary with `--from-db` against mxsim, on SQLite and on a
// throwaway PostgreSQL server: the sample database plans exactly what the
// manifests plan, apply converges and writes the ids back once, and a bad
// database or mapping stops everything before the homeserver is touched.

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "tests/e2e/fixture.h"
#include "tests/support/app_databases.h"

namespace app_database_test {

namespace {

using testing_support::app_databases;
using testing_support::execute_sql;
using testing_support::query_sql;
using testing_support::TestDatabase;

// Writes the homeserver answered since `after` (journal sequence number).
std::vector<std::string> writes_since(e2e::Fixture& fx, uint64_t after) {
  std::vector<std::string> out;
  for (const mxsim::JournalEntry& entry : fx.homeserver().journal().entries(after)) {
    if (entry.write) {
      out.push_back(entry.method + " " + entry.path);
    }
  }
  return out;
}

// Addresses of the changes a JSON plan holds.
std::vector<std::string> changed_addresses(const std::string& plan_json) {
  std::vector<std::string> out;
  // Named: a range-for over a member of a temporary would dangle.
  const nlohmann::json plan = nlohmann::json::parse(plan_json);
  for (const auto& change : plan.at("changes")) {
    out.push_back(change.at("address").get<std::string>());
  }
  return out;
}

}  // namespace

TEST_CASE("e2e app database: the sample database plans exactly what the manifests plan", "[e2e][app_database]") {
  e2e::Fixture fx;
  auto from_manifests = fx.mxctl({"plan", fx.manifests(), "--format", "json"});
  INFO(from_manifests.err);
  REQUIRE(from_manifests.exit_code == 0);
  testing_support::TempDir dir;
  for (const TestDatabase& db : app_databases(dir)) {
    INFO(db.engine);
    auto from_db = fx.mxctl({"plan", "--from-db", db.uri, fx.manifests() + "/policies.yaml", "--format", "json"});
    INFO(from_db.err);
    REQUIRE(from_db.exit_code == 0);
    CHECK(nlohmann::json::parse(from_db.out) == nlohmann::json::parse(from_manifests.out));
    auto desired_db = fx.mxctl({"desired", "--from-db", db.uri, fx.manifests() + "/policies.yaml", "-o", "json"});
    auto desired_manifests = fx.mxctl({"desired", fx.manifests(), "-o", "json"});
    REQUIRE(desired_db.exit_code == 0);
    CHECK(desired_db.out == desired_manifests.out);
    auto validate = fx.mxctl({"validate", "--from-db", db.uri, fx.manifests() + "/policies.yaml"});
    CHECK(validate.out == "The desired state is valid: 20 users, 3 communities, 3 councils, 2 coordination rooms, "
                          "1 power policy (1 document in 1 file and 64 rows from " + db.uri + ").\n");
  }
}

TEST_CASE("e2e app database: apply converges, writes the ids back once, and follows a trust change",
          "[e2e][app_database]") {
  testing_support::TempDir dir;
  for (const TestDatabase& db : app_databases(dir)) {
    INFO(db.engine);
    e2e::Fixture fx;
    const std::string policies = fx.manifests() + "/policies.yaml";
    auto apply = fx.mxctl({"apply", "--from-db", db.uri, policies, "--yes", "--write-back"});
    INFO(apply.out + apply.err);
    REQUIRE(apply.exit_code == 0);
    CHECK(apply.out.find("Write-back: 33 values written to " + db.uri + ".") != std::string::npos);
    CHECK(e2e::ownership_problems(e2e::audit(fx.homeserver()), e2e::desired_rooms(fx)).empty());

    // The ids written are the homeserver's: each alias resolves to the room written for it.
    e2e::ServerAudit audit = e2e::audit(fx.homeserver());
    auto communities = query_sql(db.uri, "SELECT slug, matrix_space_id, matrix_general_room_id FROM communities "
                                         "ORDER BY slug");
    REQUIRE(communities.size() == 3);
    for (const auto& row : communities) {
      CHECK(audit.aliases.at("#mxctl.community." + row[0] + ":" + e2e::k_server_name) == row[1]);
      CHECK(audit.aliases.at("#mxctl.community." + row[0] + ".general:" + e2e::k_server_name) == row[2]);
    }
    CHECK(query_sql(db.uri, "SELECT matrix_coordination_room_id FROM wealth_requests WHERE id = '8841'")[0][0] ==
          audit.aliases.at("#mxctl.dm.request-8841:" + e2e::k_server_name));
    // Every account that exists; oscar left before his account was ever created.
    CHECK(query_sql(db.uri, "SELECT COUNT(*) FROM matrix_user_mappings") == std::vector<std::vector<std::string>>{{"19"}});
    CHECK(query_sql(db.uri, "SELECT COUNT(*) FROM matrix_user_mappings m JOIN app_users u ON u.id = m.user_id "
                            "WHERE u.username = 'oscar'") == std::vector<std::vector<std::string>>{{"0"}});

    // Converged: nothing to do, nothing to write back, nothing sent.
    uint64_t before = fx.homeserver().journal().last_seq();
    auto again = fx.mxctl({"reconcile", "--from-db", db.uri, policies, "--write-back"});
    INFO(again.out + again.err);
    CHECK(again.exit_code == 0);
    CHECK(again.out.find("Write-back: 0 values written") != std::string::npos);
    CHECK(writes_since(fx, before).empty());

    // Trust 9 -> 31 for bob in harbor: one power-levels change in each of
    // the community's two rooms, nothing else.
    execute_sql(db.uri, "UPDATE memberships SET trust_score = 31 WHERE community_id = (SELECT id FROM communities "
                        "WHERE slug = 'harbor') AND user_id = (SELECT id FROM app_users WHERE username = 'bob')");
    auto plan = fx.mxctl({"plan", "--from-db", db.uri, policies, "--format", "json"});
    INFO(plan.err);
    REQUIRE(plan.exit_code == 0);
    nlohmann::json json = nlohmann::json::parse(plan.out);
    CHECK(changed_addresses(plan.out) == std::vector<std::string>{"room.community/harbor", "room.community/harbor/general"});
    for (const auto& change : json.at("changes")) {
      CHECK(change.at("after") == nlohmann::json{{"power_levels.users[\"@bob:mxsim.test\"]", 50}});
    }
    std::vector<std::string> operations;
    for (const auto& op : json.at("operations")) {
      operations.push_back(op.at("description").get<std::string>());
    }
    CHECK(operations == std::vector<std::string>{"set m.room.power_levels in community/harbor",
                                                 "set m.room.power_levels in community/harbor/general"});
  }
}

TEST_CASE("e2e app database: a deleted community row archives the community's rooms", "[e2e][app_database]") {
  testing_support::TempDir dir;
  for (const TestDatabase& db : app_databases(dir)) {
    INFO(db.engine);
    e2e::Fixture fx;
    const std::string policies = fx.manifests() + "/policies.yaml";
    auto apply = fx.mxctl({"apply", "--from-db", db.uri, policies, "--yes"});
    REQUIRE(apply.exit_code == 0);
    // As the app deletes: the foreign keys cascade to members and councils.
    execute_sql(db.uri, std::string(db.engine == "sqlite" ? "PRAGMA foreign_keys = ON;" : "") +
                            "DELETE FROM communities WHERE slug = 'riverside'");
    auto plan = fx.mxctl({"plan", "--from-db", db.uri, policies, "--format", "json"});
    INFO(plan.err);
    nlohmann::json json = nlohmann::json::parse(plan.out);
    std::map<std::string, std::string> actions;
    for (const auto& change : json.at("changes")) {
      actions[change.at("address").get<std::string>()] = change.at("actions").at(0).get<std::string>();
    }
    CHECK(actions == std::map<std::string, std::string>{{"room.community/riverside", "archive"},
                                                        {"room.community/riverside/general", "archive"},
                                                        {"room.council/disputes", "archive"},
                                                        {"room.council/disputes/discussion", "archive"}});
  }
}

TEST_CASE("e2e app database: a database that lost every community archives nothing (mass-change guard)",
          "[e2e][app_database]") {
  testing_support::TempDir dir;
  for (const TestDatabase& db : app_databases(dir)) {
    INFO(db.engine);
    e2e::Fixture fx;
    const std::string policies = fx.manifests() + "/policies.yaml";
    REQUIRE(fx.mxctl({"apply", "--from-db", db.uri, policies, "--yes"}).exit_code == 0);
    // A replica that lost its communities (the people are still there).
    execute_sql(db.uri, std::string(db.engine == "sqlite" ? "PRAGMA foreign_keys = ON;" : "") +
                            "DELETE FROM communities");
    uint64_t before = fx.homeserver().journal().last_seq();
    auto reconcile = fx.mxctl({"reconcile", "--from-db", db.uri, policies, "--write-back"});
    INFO(reconcile.out + reconcile.err);
    CHECK(reconcile.exit_code == 1);
    CHECK(reconcile.err.find("mass-change guard") != std::string::npos);
    CHECK(writes_since(fx, before).empty());
    // Nor was anything written back.
    CHECK(query_sql(db.uri, "SELECT COUNT(*) FROM matrix_user_mappings") == std::vector<std::vector<std::string>>{{"0"}});
  }
}

// Runs `attempt` on a fresh fixture per engine and checks that it sent the
// homeserver no write at all.
template <typename Attempt>
void expect_no_writes(Attempt attempt) {
  testing_support::TempDir dir;
  for (const TestDatabase& db : app_databases(dir)) {
    INFO(db.engine);
    e2e::Fixture fx;
    uint64_t before = fx.homeserver().journal().last_seq();
    attempt(fx, db, fx.manifests() + "/policies.yaml");
    CHECK(writes_since(fx, before).empty());
  }
}

TEST_CASE("e2e app database: a broken database or mapping stops before any write", "[e2e][app_database]") {
  SECTION("a missing column") {
    expect_no_writes([](e2e::Fixture& fx, const TestDatabase& db, const std::string& policies) {
      std::string config = fx.scratch("mxctl.yaml");
      std::ofstream(config) << "appDatabase:\n  queries:\n    communityMembers: >-\n"
                               "      SELECT c.slug AS community, u.username AS user FROM memberships m\n"
                               "      JOIN communities c ON c.id = m.community_id JOIN app_users u ON u.id = m.user_id\n";
      auto apply = fx.mxctl({"--config", config, "apply", "--from-db", db.uri, policies, "--yes"});
      CHECK(apply.exit_code == 1);
      CHECK(apply.err == "query communityMembers: missing column \"trust\" (the query returns: community, user)\n"
                         "1 problem found\n");
    });
  }
  SECTION("a wrong type") {
    expect_no_writes([](e2e::Fixture& fx, const TestDatabase& db, const std::string& policies) {
      std::string config = fx.scratch("mxctl.yaml");
      std::ofstream(config) << "appDatabase:\n  queries:\n    users: SELECT username AS key, 'yes' AS admin FROM "
                               "app_users\n";
      auto reconcile = fx.mxctl({"--config", config, "reconcile", "--from-db", db.uri, policies});
      CHECK(reconcile.exit_code == 1);
      CHECK(reconcile.err.find("query users row alice column admin: expected a boolean, got text \"yes\"\n") !=
            std::string::npos);
    });
  }
  SECTION("an SQL error") {
    expect_no_writes([](e2e::Fixture& fx, const TestDatabase& db, const std::string& policies) {
      std::string config = fx.scratch("mxctl.yaml");
      std::ofstream(config) << "appDatabase:\n  queries:\n    requests: SELECT * FROM requests\n";
      auto apply = fx.mxctl({"--config", config, "apply", "--from-db", db.uri, policies, "--yes"});
      CHECK(apply.exit_code == 1);
      CHECK(apply.err.rfind("query requests: sql error: ", 0) == 0);
    });
  }
  SECTION("an unreachable database") {
    expect_no_writes([](e2e::Fixture& fx, const TestDatabase& db, const std::string& policies) {
      std::string uri = db.engine == "sqlite" ? "sqlite://" + fx.scratch("missing.db")
                                              : "postgresql://app:s3cret@/none?host=" + fx.scratch("nowhere");
      auto apply = fx.mxctl({"apply", "--from-db", uri, policies, "--yes"});
      CHECK(apply.exit_code == 1);
      CHECK(apply.err.rfind("database: cannot ", 0) == 0);
      CHECK(apply.err.find("s3cret") == std::string::npos);
    });
  }
  SECTION("an emptied database") {
    expect_no_writes([](e2e::Fixture& fx, const TestDatabase& db, const std::string& policies) {
      execute_sql(db.uri, "DELETE FROM memberships; DELETE FROM council_members; DELETE FROM councils; "
                          "DELETE FROM wealth_requests; DELETE FROM wealth; DELETE FROM app_user_linked_accounts; "
                          "DELETE FROM communities; DELETE FROM app_users");
      auto reconcile = fx.mxctl({"reconcile", "--from-db", db.uri, policies});
      CHECK(reconcile.exit_code == 1);
      CHECK(reconcile.err.find("returned no users and no communities") != std::string::npos);
    });
  }
}

TEST_CASE("e2e app database: a saved plan records the database and apply reads it again", "[e2e][app_database]") {
  testing_support::TempDir dir;
  const std::vector<TestDatabase> dbs = app_databases(dir);
  const bool stale = GENERATE(false, true);
  for (const TestDatabase& db : dbs) {
    INFO(db.engine << (stale ? ", database changed after the plan" : ", unchanged"));
    e2e::Fixture fx;
    const std::string policies = fx.manifests() + "/policies.yaml";
    const std::string saved = fx.scratch("plan.json");
    // A password in the uri (the test cluster trusts local connections and
    // ignores it) must not reach the saved plan, which still connects.
    std::string uri = db.uri;
    std::string expected = db.uri;
    if (db.engine == "postgresql") {
      uri = "postgresql://postgres:s3cret@/" + db.uri.substr(std::string("postgresql:///").size());
      expected = "postgresql://postgres@/" + db.uri.substr(std::string("postgresql:///").size());
    }
    auto plan = fx.mxctl({"plan", "--from-db", uri, policies, "--out", saved});
    REQUIRE(plan.exit_code == 0);
    std::ifstream in(saved);
    nlohmann::json file = nlohmann::json::parse(in);
    CHECK(file.at("from_db") == expected);
    if (stale) {
      execute_sql(db.uri, "UPDATE app_users SET display_name = 'Bob B.' WHERE username = 'bob'");
    }
    auto apply = fx.mxctl({"apply", "--plan", saved});
    INFO(apply.err);
    if (stale) {
      CHECK(apply.exit_code == 1);
      CHECK(apply.err.find("saved plan is stale") != std::string::npos);
    } else {
      CHECK(apply.exit_code == 0);
    }
  }
}

}  // namespace app_database_test
