// The app database as the source of desired state: the same scenarios on
// SQLite and on a throwaway PostgreSQL server, always from the shipped
// schema (manifests/app-schema.sql) and sample data (manifests/app-sample.sql).

#include "adapters/appdb/app_database.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "adapters/appdb/app_write_back.h"
#include "adapters/appdb/desired_source.h"
#include "adapters/homeserver/matrix_state_json.h"
#include "adapters/manifests/settings_file.h"
#include "adapters/manifests/yaml_manifests.h"
#include "model/compile.h"
#include "model/naming.h"
#include "tests/support/app_databases.h"

namespace app_database_test {

namespace {

using testing_support::app_databases;
using testing_support::execute_sql;
using testing_support::query_sql;
using testing_support::TempDir;
using testing_support::TestDatabase;

const std::string k_manifests = std::string(MXCTL_SOURCE_DIR) + "/manifests";
const std::string k_policies = k_manifests + "/policies.yaml";

model::Settings settings() {
  model::Settings out;
  out.server_name = "example.org";
  out.bot_user_id = "@mxctl:example.org";
  return out;
}

// People and communities from the database, the power policy from YAML.
adapters::LoadedDesired load(const TestDatabase& db, const adapters::AppDatabaseSettings& mapping = {}) {
  return adapters::load_desired({k_policies}, db.uri, mapping);
}

nlohmann::json desired_json(const model::Topology& topology) {
  return adapters::to_json(model::compile(topology, settings()));
}

std::string joined(const model::Diagnostics& diagnostics) {
  std::string out;
  for (const model::Diagnostic& diagnostic : diagnostics) {
    out += diagnostic.to_string() + "\n";
  }
  return out;
}

// Rooms whose JSON differs between two desired states, with the paths that
// differ.
std::map<std::string, nlohmann::json> changed_rooms(const nlohmann::json& before, const nlohmann::json& after) {
  std::map<std::string, nlohmann::json> out;
  for (const auto& [key, room] : before.at("rooms").items()) {
    if (!after.at("rooms").contains(key)) {
      out[key] = "removed";
    } else if (after["rooms"][key] != room) {
      out[key] = nlohmann::json::diff(room, after["rooms"][key]);
    }
  }
  for (const auto& [key, room] : after.at("rooms").items()) {
    if (!before.at("rooms").contains(key)) {
      out[key] = "added";
    }
  }
  return out;
}

// What the state store would hold after an apply of `topology`: every room,
// and every account but oscar's (deactivated before it was ever created).
adapters::MatrixIds matrix_ids(const model::Topology& topology) {
  adapters::MatrixIds ids;
  model::MatrixState desired = model::compile(topology, settings());
  for (const auto& [key, room] : desired.rooms) {
    ids.rooms[key] = "!" + model::dotted_key(key) + ":example.org";
  }
  for (const auto& [key, account] : desired.accounts) {
    if (key != "oscar") {
      ids.accounts[key] = account.user_id;
    }
  }
  return ids;
}

std::string member_where(const std::string& community, const std::string& user) {
  return "community_id = (SELECT id FROM communities WHERE slug = '" + community +
         "') AND user_id = (SELECT id FROM app_users WHERE username = '" + user + "')";
}

}  // namespace

TEST_CASE("app database: the sample data is exactly the instance of manifests/", "[app_database]") {
  adapters::LoadedManifests manifests = adapters::load_manifests({k_manifests});
  REQUIRE(manifests.diagnostics.empty());
  const nlohmann::json expected = desired_json(manifests.topology);
  TempDir dir;
  for (const TestDatabase& db : app_databases(dir)) {
    INFO(db.engine);
    adapters::LoadedDesired loaded = load(db);
    INFO(joined(loaded.diagnostics));
    REQUIRE(loaded.diagnostics.empty());
    CHECK(loaded.topology.users.size() == 20);
    CHECK(loaded.topology.communities.size() == 3);
    CHECK(loaded.topology.councils.size() == 3);
    CHECK(loaded.topology.coordination_rooms.size() == 2);
    CHECK(desired_json(loaded.topology) == expected);
    CHECK(loaded.describe_sources() == "1 document in 1 file and 64 rows from " + db.uri);
  }
}

TEST_CASE(
    "app database: alone, it goes through the same validation, located "
    "by table, row and column",
    "[app_database]") {
  TempDir dir;
  for (const TestDatabase& db : app_databases(dir)) {
    INFO(db.engine);
    adapters::LoadedDesired loaded = adapters::load_desired({}, db.uri, {});
    CHECK(joined(loaded.diagnostics) ==
          "table communities row hilltop column config: community \"hilltop\": "
          "unknown power policy \"gentle\"\n");
    execute_sql(db.uri, "UPDATE memberships SET trust_score = -3 WHERE " + member_where("harbor", "leo"));
    loaded = load(db);
    CHECK(joined(loaded.diagnostics) ==
          "table memberships row harbor/leo column trust: community "
          "\"harbor\": trust of "
          "\"leo\" must be 0 or more, got -3\n");
  }
}

TEST_CASE("app database: a trust change changes that member's level and nothing else", "[app_database]") {
  TempDir dir;
  for (const TestDatabase& db : app_databases(dir)) {
    INFO(db.engine);
    const nlohmann::json before = desired_json(load(db).topology);
    // bob: trust 9 -> 31 in harbor, band 10 -> 50.
    execute_sql(db.uri, "UPDATE memberships SET trust_score = 31 WHERE " + member_where("harbor", "bob"));
    adapters::LoadedDesired loaded = load(db);
    REQUIRE(loaded.diagnostics.empty());
    auto changed = changed_rooms(before, desired_json(loaded.topology));
    // Both rooms of the community carry the trust levels: one power-levels
    // event each, one user's level in it.
    const nlohmann::json bob_to_50 =
        nlohmann::json::parse(R"([{"op":"replace","path":"/power_levels/users/@bob:example.org","value":50}])");
    CHECK(changed == std::map<std::string, nlohmann::json>{{"community/harbor", bob_to_50},
                                                           {"community/harbor/general", bob_to_50}});
  }
}

TEST_CASE(
    "app database: a deleted community row leaves the desired state, a "
    "soft-deleted one is archived",
    "[app_database]") {
  TempDir dir;
  // Sections outside the loop: Catch runs one section per pass, so a
  // section inside the loop would run for the first engine only.
  const std::vector<TestDatabase> dbs = app_databases(dir);
  SECTION("deleted") {
    for (const TestDatabase& db : dbs) {
      INFO(db.engine);
      const nlohmann::json before = desired_json(load(db).topology);
      // As the app deletes: the foreign keys cascade to members and councils.
      execute_sql(db.uri, std::string(db.engine == "sqlite" ? "PRAGMA foreign_keys = ON;" : "") +
                              "DELETE FROM communities WHERE slug = 'riverside'");
      adapters::LoadedDesired loaded = load(db);
      INFO(joined(loaded.diagnostics));
      REQUIRE(loaded.diagnostics.empty());
      CHECK(loaded.topology.find_community("riverside") == nullptr);
      CHECK(changed_rooms(before, desired_json(loaded.topology)) ==
            std::map<std::string, nlohmann::json>{{"community/riverside", "removed"},
                                                  {"community/riverside/general", "removed"},
                                                  {"council/disputes", "removed"},
                                                  {"council/disputes/discussion", "removed"}});
    }
  }
  SECTION("soft-deleted") {
    for (const TestDatabase& db : dbs) {
      INFO(db.engine);
      execute_sql(db.uri,
                  "UPDATE communities SET deleted_at = "
                  "CURRENT_TIMESTAMP WHERE slug = 'harbor'");
      adapters::LoadedDesired loaded = load(db);
      REQUIRE(loaded.diagnostics.empty());
      REQUIRE(loaded.topology.find_community("harbor") != nullptr);
      CHECK(loaded.topology.find_community("harbor")->archived);
      CHECK_FALSE(loaded.topology.find_community("riverside")->archived);
    }
  }
}

TEST_CASE("app database: community config JSON sets matrixEnabled and encryption", "[app_database]") {
  TempDir dir;
  for (const TestDatabase& db : app_databases(dir)) {
    INFO(db.engine);
    execute_sql(db.uri,
                "UPDATE communities SET config = '{\"matrixEnabled\": {\"type\": "
                "\"boolean\", \"value\": false}}' "
                "WHERE slug = 'hilltop';"
                "UPDATE communities SET config = '{\"matrixGeneralChatEncrypted\": "
                "true}' WHERE slug = 'riverside'");
    adapters::LoadedDesired loaded = load(db);
    REQUIRE(loaded.diagnostics.empty());
    CHECK_FALSE(loaded.topology.find_community("hilltop")->matrix_enabled);
    CHECK(loaded.topology.find_community("riverside")->general_room.encrypted);
    CHECK(loaded.topology.find_community("riverside")->general_room.topic.empty());

    execute_sql(db.uri,
                "UPDATE communities SET config = "
                "'{\"matrixCouncilChatsEncrypted\": false}' "
                "WHERE slug = 'harbor'");
    loaded = load(db);
    CHECK(joined(loaded.diagnostics) ==
          "table communities row harbor column config: council \"stewards\": "
          "councils are always end-to-end "
          "encrypted; encrypted: false is not allowed\n");
  }
}

TEST_CASE(
    "app database: write-back fills the ids once, a second write-back "
    "changes nothing",
    "[app_database]") {
  TempDir dir;
  for (const TestDatabase& db : app_databases(dir)) {
    INFO(db.engine);
    adapters::LoadedDesired loaded = load(db);
    REQUIRE(loaded.diagnostics.empty());
    adapters::MatrixIds room_ids = matrix_ids(loaded.topology);
    auto first = adapters::write_back(db.uri, loaded.topology, loaded.ids, room_ids);
    INFO((first ? "" : first.error().message));
    REQUIRE(first);
    // 19 mappings (not oscar's), 3 communities x 2, 3 councils x 2, 2 requests.
    CHECK(first->written.size() == 33);
    CHECK(std::count(first->written.begin(), first->written.end(),
                     "communities riverside: matrix_space_id = "
                     "!community.riverside:example.org") == 1);
    CHECK(query_sql(db.uri,
                    "SELECT slug, matrix_space_id, matrix_general_room_id FROM "
                    "communities ORDER BY slug") ==
          std::vector<std::vector<std::string>>{
              {"harbor", "!community.harbor:example.org", "!community.harbor.general:example.org"},
              {"hilltop", "!community.hilltop:example.org", "!community.hilltop.general:example.org"},
              {"riverside", "!community.riverside:example.org", "!community.riverside.general:example.org"}});
    CHECK(query_sql(db.uri,
                    "SELECT slug, matrix_space_id, matrix_discussion_room_id "
                    "FROM councils WHERE slug = "
                    "'disputes'") ==
          std::vector<std::vector<std::string>>{
              {"disputes", "!council.disputes:example.org", "!council.disputes.discussion:example.org"}});
    CHECK(query_sql(db.uri,
                    "SELECT id, matrix_coordination_room_id FROM "
                    "wealth_requests ORDER BY id") ==
          std::vector<std::vector<std::string>>{{"8841", "!dm.request-8841:example.org"},
                                                {"9051", ""},
                                                {"9120", "!dm.request-9120:example.org"},
                                                {"9133", ""}});
    CHECK(query_sql(db.uri,
                    "SELECT u.username, m.matrix_user_id FROM "
                    "matrix_user_mappings m JOIN app_users u ON "
                    "u.id = m.user_id WHERE m.provisioned_at IS NOT "
                    "NULL AND u.username IN ('alice', "
                    "'sybil') ORDER BY u.username") ==
          std::vector<std::vector<std::string>>{{"alice", "@alice:example.org"}, {"sybil", "@sybil.r:example.org"}});
    CHECK(query_sql(db.uri, "SELECT COUNT(*) FROM matrix_user_mappings") ==
          std::vector<std::vector<std::string>>{{"19"}});
    CHECK(query_sql(db.uri, "SELECT COUNT(*) FROM matrix_user_mappings m JOIN app_users u ON u.id = m.user_id "
                            "WHERE u.username = 'oscar'") == std::vector<std::vector<std::string>>{{"0"}});

    auto second = adapters::write_back(db.uri, loaded.topology, loaded.ids, room_ids);
    REQUIRE(second);
    CHECK(second->written.empty());

    // A room replaced on the homeserver: only that value is written.
    room_ids.rooms["council/stewards/discussion"] = "!new:example.org";
    auto third = adapters::write_back(db.uri, loaded.topology, loaded.ids, room_ids);
    REQUIRE(third);
    CHECK(third->written ==
          std::vector<std::string>{"councils stewards: matrix_discussion_room_id = !new:example.org"});
  }
}

TEST_CASE("app database: write-back is one transaction", "[app_database]") {
  TempDir dir;
  for (const TestDatabase& db : app_databases(dir)) {
    INFO(db.engine);
    adapters::LoadedDesired loaded = load(db);
    REQUIRE(loaded.diagnostics.empty());
    // The last table written is gone: everything before it must roll back.
    execute_sql(db.uri, "ALTER TABLE wealth_requests DROP COLUMN matrix_coordination_room_id");
    adapters::MatrixIds room_ids = matrix_ids(loaded.topology);
    auto result = adapters::write_back(db.uri, loaded.topology, loaded.ids, room_ids);
    REQUIRE_FALSE(result);
    CHECK(result.error().message.find("nothing was written") != std::string::npos);
    CHECK(query_sql(db.uri, "SELECT COUNT(*) FROM matrix_user_mappings") ==
          std::vector<std::vector<std::string>>{{"0"}});
    CHECK(query_sql(db.uri,
                    "SELECT COUNT(*) FROM communities WHERE "
                    "matrix_space_id IS NOT NULL") == std::vector<std::vector<std::string>>{{"0"}});
  }
}

TEST_CASE("app database: an operator's own queries are checked for columns and types", "[app_database]") {
  TempDir dir;
  const std::vector<TestDatabase> dbs = app_databases(dir);
  adapters::AppDatabaseSettings mapping;
  SECTION("a working mapping of another schema") {
    for (const TestDatabase& db : dbs) {
      INFO(db.engine);
      execute_sql(db.uri,
                  "CREATE TABLE people (handle TEXT, full_name TEXT);"
                  "INSERT INTO people VALUES ('zoe', 'Zoe Example');");
      mapping.queries["users"] = "SELECT handle AS key, full_name AS display_name, TRUE AS protect FROM people";
      // A whole number computed as numeric (PostgreSQL's SUM) is an integer.
      mapping.queries["communityMembers"] = "SELECT 'harbor' AS community, 'zoe' AS user, CAST(12 AS NUMERIC) AS trust";
      mapping.queries["councils"] = "SELECT 'x' AS key, 'harbor' AS community, 'X' AS name WHERE 1 = 0";
      mapping.queries["councilMembers"] = "SELECT 'x' AS council, 'zoe' AS user WHERE 1 = 0";
      mapping.queries["requests"] = "SELECT 'r' AS key, 'zoe' AS requester, 'zoe' AS owner WHERE 1 = 0";
      mapping.queries["userLinkedAccounts"] = "SELECT 'zoe' AS user, '@z:x.org' AS matrix_user_id WHERE 1 = 0";
      adapters::LoadedDesired loaded = load(db, mapping);
      INFO(joined(loaded.diagnostics));
      REQUIRE(loaded.diagnostics.empty());
      REQUIRE(loaded.topology.users.size() == 1);
      CHECK(loaded.topology.users[0].display_name == "Zoe Example");
      CHECK(loaded.topology.users[0].protect);
      CHECK(loaded.topology.find_community("harbor")->members.size() == 1);
      CHECK(loaded.topology.find_community("harbor")->members[0].trust == 12);
    }
  }
  SECTION("a missing column and an unknown one") {
    for (const TestDatabase& db : dbs) {
      INFO(db.engine);
      mapping.queries["users"] = "SELECT username AS key, display_name AS displayname FROM app_users";
      mapping.queries["communityMembers"] =
          "SELECT c.slug AS community, u.username AS user FROM memberships m "
          "JOIN communities c ON c.id = "
          "m.community_id JOIN app_users u ON u.id = m.user_id";
      adapters::LoadedDesired loaded = load(db, mapping);
      CHECK(joined(loaded.diagnostics) ==
            "query communityMembers: missing column \"trust\" (the query "
            "returns: community, user)\n"
            "query users: unknown column \"displayname\" (did you mean "
            "\"display_name\"?)\n");
    }
  }
  SECTION("a column of the wrong type") {
    for (const TestDatabase& db : dbs) {
      INFO(db.engine);
      mapping.queries["communityMembers"] =
          "SELECT c.slug AS community, u.username AS user, CAST(m.trust_score "
          "AS TEXT) AS trust FROM memberships m "
          "JOIN communities c ON c.id = m.community_id JOIN app_users u ON "
          "u.id = m.user_id";
      adapters::LoadedDesired loaded = load(db, mapping);
      // One per row: 25 memberships.
      REQUIRE(loaded.diagnostics.size() == 25);
      CHECK(loaded.diagnostics[0].to_string() ==
            "query communityMembers row harbor/bob column trust: expected an "
            "integer, got text \"9\"");
      mapping.queries["communityMembers"] =
          "SELECT c.slug AS community, u.username AS user, m.trust_score + 0.5 AS trust FROM memberships m "
          "JOIN communities c ON c.id = m.community_id JOIN app_users u ON u.id = m.user_id";
      loaded = load(db, mapping);
      REQUIRE(loaded.diagnostics.size() == 25);
      CHECK(loaded.diagnostics[0].to_string() ==
            "query communityMembers row harbor/bob column trust: expected an integer, got real \"9.5\"");
    }
  }
  SECTION("an SQL error") {
    for (const TestDatabase& db : dbs) {
      INFO(db.engine);
      mapping.queries["councils"] = "SELECT * FROM council";
      adapters::LoadedDesired loaded = load(db, mapping);
      REQUIRE(loaded.diagnostics.size() == 1);
      CHECK(loaded.diagnostics[0].to_string().rfind("query councils: sql error: ", 0) == 0);
      CHECK(loaded.diagnostics[0].to_string().find("council") != std::string::npos);
    }
  }
}

TEST_CASE("app database: no database is an error, never an empty desired state", "[app_database]") {
  TempDir dir;
  SECTION("a missing SQLite file") {
    adapters::LoadedDesired loaded =
        adapters::load_desired({k_policies}, "sqlite://" + dir.path().string() + "/no.db", {});
    CHECK(joined(loaded.diagnostics) ==
          "database: cannot open database sqlite://" + dir.path().string() + "/no.db: no such file\n");
    CHECK(loaded.topology.users.empty());
  }
  SECTION("an empty database") {
    std::vector<TestDatabase> dbs = app_databases(dir, false);
    for (const TestDatabase& db : dbs) {
      INFO(db.engine);
      adapters::LoadedDesired loaded = load(db);
      CHECK(joined(loaded.diagnostics) == "database: " + db.uri +
                                              " returned no users and no communities; an empty database is "
                                              "never taken as the desired state "
                                              "(check the uri, the credentials and the queries)\n");
    }
  }
  SECTION("an unreachable PostgreSQL, its password never shown") {
    testing_support::PostgresServer* server = testing_support::shared_postgres_server();
    if (server == nullptr) {
      return;
    }
    std::string uri = "postgresql://postgres:s3cret@/no_such_db?host=" + dir.path().string() + "/nowhere";
    adapters::LoadedDesired loaded = adapters::load_desired({k_policies}, uri, {});
    REQUIRE(loaded.diagnostics.size() == 1);
    CHECK(loaded.diagnostics[0].to_string().rfind("database: cannot connect to database "
                                                  "postgresql://postgres:<redacted>@",
                                                  0) == 0);
    CHECK(loaded.diagnostics[0].to_string().find("s3cret") == std::string::npos);
    CHECK(loaded.topology.users.empty());
  }
  SECTION("an unknown scheme") {
    adapters::LoadedDesired loaded = adapters::load_desired({}, "mysql://app", {});
    CHECK(joined(loaded.diagnostics) ==
          "database: unknown database uri \"mysql://app\": expected "
          "sqlite:///path/app.db, postgresql://… or a \"host=… dbname=…\" "
          "conninfo\n");
  }
}

TEST_CASE("app database: PostgreSQL conninfo strings work too", "[app_database]") {
  testing_support::PostgresServer* server = testing_support::shared_postgres_server();
  if (server == nullptr) {
    return;
  }
  std::string name = testing_support::fresh_database_name();
  server->create_database(name);
  execute_sql(server->uri(name), testing_support::read_source_file("manifests/app-schema.sql") +
                                     testing_support::read_source_file("manifests/app-sample.sql"));
  adapters::LoadedDesired loaded = adapters::load_desired({k_policies}, server->conninfo(name), {});
  INFO(joined(loaded.diagnostics));
  CHECK(loaded.diagnostics.empty());
  CHECK(loaded.topology.users.size() == 20);
}

TEST_CASE("app database: a pass reads one snapshot", "[app_database]") {
  TempDir dir;
  for (const TestDatabase& db : app_databases(dir)) {
    INFO(db.engine);
    if (db.engine == "sqlite") {
      execute_sql(db.uri, "PRAGMA journal_mode = WAL");
    }
    auto reader = adapters::open_app_database(db.uri, false);
    REQUIRE(reader);
    REQUIRE((*reader)->begin_snapshot());
    const std::string count = "SELECT COUNT(*) FROM app_users";
    REQUIRE((*reader)->query(count)->rows[0][0].integer == 20);
    // A writer commits beside the reader (SQLite: in WAL mode, as a busy
    // app database runs; otherwise the writer would wait for the reader).
    execute_sql(db.uri, "DELETE FROM app_users WHERE username = 'oscar'");
    CHECK((*reader)->query(count)->rows[0][0].integer == 20);
    (*reader)->rollback();
    CHECK((*reader)->query(count)->rows[0][0].integer == 19);
  }
}

TEST_CASE("app database: passwords are redacted from uris", "[app_database]") {
  CHECK(adapters::redact_database_uri("postgresql://app:hunter2@db.example.org:5432/app") ==
        "postgresql://app:<redacted>@db.example.org:5432/app");
  CHECK(adapters::redact_database_uri("postgresql://db/app?password=hunter2&sslmode=require") ==
        "postgresql://db/app?password=<redacted>&sslmode=require");
  CHECK(adapters::redact_database_uri("host=db dbname=app password='hun ter2' user=app") ==
        "host=db dbname=app password=<redacted> user=app");
  CHECK(adapters::redact_database_uri("sqlite:///var/lib/app/app.db") == "sqlite:///var/lib/app/app.db");
}

TEST_CASE("app database: saved plans record uris without their password", "[app_database]") {
  CHECK(adapters::strip_database_password("postgresql://app:hunter2@db.example.org:5432/app") ==
        "postgresql://app@db.example.org:5432/app");
  CHECK(adapters::strip_database_password("postgresql://db/app?password=hunter2&sslmode=require") ==
        "postgresql://db/app?sslmode=require");
  CHECK(adapters::strip_database_password("postgresql://db/app?sslmode=require&password=hunter2") ==
        "postgresql://db/app?sslmode=require");
  CHECK(adapters::strip_database_password("postgresql://db/app?password=hunter2") == "postgresql://db/app");
  CHECK(adapters::strip_database_password("host=db password='hun ter2' dbname=app") == "host=db dbname=app");
  CHECK(adapters::strip_database_password("host=db dbname=app password=x") == "host=db dbname=app");
  CHECK(adapters::strip_database_password("sqlite:///var/lib/app/app.db") == "sqlite:///var/lib/app/app.db");
}

TEST_CASE("app database: the appDatabase section of the config file", "[app_database][settings]") {
  TempDir dir;
  std::string config = dir.write("mxctl.yaml", R"(serverName: example.org
massChangeMaxPercent: 30
appDatabase:
  queries:
    users: SELECT handle AS key FROM people
    comunities: SELECT 1
)");
  adapters::LoadedSettings loaded = adapters::load_settings(config, [](const std::string&) { return std::nullopt; });
  CHECK(loaded.app_database.queries ==
        std::map<std::string, std::string>{{"users", "SELECT handle AS key FROM people"}});
  CHECK(joined(loaded.diagnostics) == config +
                                          ":6:5: config: unknown query kind \"comunities\" (did you "
                                          "mean \"communities\"?)\n");
}

TEST_CASE("app database: integers are read at full width, beyond an int is an error at the row and column",
          "[app_database][limits]") {
  TempDir dir;
  for (const TestDatabase& db : app_databases(dir)) {
    INFO(db.engine);
    // PostgreSQL's INTEGER is 32 bits: the app would have to use BIGINT to
    // store such scores at all.
    if (db.engine == "postgresql") {
      execute_sql(db.uri, "ALTER TABLE memberships ALTER COLUMN trust_score TYPE BIGINT");
    }
    const std::string at = "table memberships row harbor/leo column trust: ";
    // 2^32 + 42: read as 32 bits it would be 42, power level 50.
    execute_sql(db.uri, "UPDATE memberships SET trust_score = 4294967338 WHERE " + member_where("harbor", "leo"));
    CHECK(joined(load(db).diagnostics) == at + "trust is out of range, got 4294967338 (at most 2147483647)\n");
    execute_sql(db.uri, "UPDATE memberships SET trust_score = 1e12 WHERE " + member_where("harbor", "leo"));
    CHECK(joined(load(db).diagnostics) == at + "trust is out of range, got 1000000000000 (at most 2147483647)\n");
    execute_sql(db.uri, "UPDATE memberships SET trust_score = -4294967296 WHERE " + member_where("harbor", "leo"));
    CHECK(joined(load(db).diagnostics) == at + "trust is out of range, got -4294967296 (at least -2147483648)\n");
    // The largest 64-bit value is still read exactly, then refused.
    execute_sql(db.uri,
                "UPDATE memberships SET trust_score = 9223372036854775807 WHERE " + member_where("harbor", "leo"));
    CHECK(joined(load(db).diagnostics) ==
          at + "trust is out of range, got 9223372036854775807 (at most 2147483647)\n");
  }
}

TEST_CASE("app database: numeric values are read exactly, never through a wrapping cast", "[app_database][limits]") {
  TempDir dir;
  const std::vector<TestDatabase> dbs = app_databases(dir);
  adapters::AppDatabaseSettings mapping;
  // Every member as the default query reads them, leo's trust replaced
  // (on PostgreSQL the whole column becomes numeric).
  auto with_trust = [](const std::string& leo) {
    return "SELECT c.slug AS community, u.username AS user, m.role AS role, CASE WHEN c.slug = 'harbor' AND "
           "u.username = 'leo' THEN " +
           leo +
           " ELSE m.trust_score END AS trust FROM memberships m JOIN communities c ON c.id = m.community_id "
           "JOIN app_users u ON u.id = m.user_id";
  };
  for (const TestDatabase& db : dbs) {
    INFO(db.engine);
    const std::string at = "query communityMembers row harbor/leo column trust: ";
    // Beyond 2^53 a double would round it; beyond 2^63 a cast would be undefined.
    mapping.queries["communityMembers"] = with_trust("CAST('4294967338' AS NUMERIC)");
    CHECK(joined(load(db, mapping).diagnostics) == at + "trust is out of range, got 4294967338 (at most 2147483647)\n");
    mapping.queries["communityMembers"] = with_trust("CAST('92233720368547758080' AS NUMERIC)");
    const std::string beyond = joined(load(db, mapping).diagnostics);
    CHECK(beyond.rfind(at + "trust is out of range, got \"", 0) == 0);
    CHECK(std::count(beyond.begin(), beyond.end(), '\n') == 1);
    mapping.queries["communityMembers"] = with_trust("CAST('31.000' AS NUMERIC)");
    adapters::LoadedDesired loaded = load(db, mapping);
    INFO(joined(loaded.diagnostics));
    REQUIRE(loaded.diagnostics.empty());
    const auto& harbor = loaded.topology.find_community("harbor")->members;
    auto leo = std::find_if(harbor.begin(), harbor.end(), [](const auto& m) { return m.user == "leo"; });
    REQUIRE(leo != harbor.end());
    CHECK(leo->trust == 31);
  }
}

TEST_CASE("app database: a key written twice in a community's config JSON is an error, never last-wins",
          "[app_database][limits]") {
  TempDir dir;
  for (const TestDatabase& db : app_databases(dir)) {
    INFO(db.engine);
    execute_sql(db.uri,
                "UPDATE communities SET config = '{\"matrixEnabled\": true, \"matrixEnabled\": false}' "
                "WHERE slug = 'hilltop';"
                "UPDATE communities SET config = '{\"matrixGeneralChatEncrypted\": {\"type\": \"boolean\", "
                "\"value\": true, \"value\": false}}' WHERE slug = 'harbor'");
    adapters::LoadedDesired loaded = load(db);
    CHECK(joined(loaded.diagnostics) ==
          "table communities row harbor column config: config: duplicate key \"matrixGeneralChatEncrypted.value\"\n"
          "table communities row hilltop column config: config: duplicate key \"matrixEnabled\"\n");
  }
}

TEST_CASE("app database: values the homeserver would refuse are errors at their row and column",
          "[app_database][limits]") {
  TempDir dir;
  model::Settings naming = settings();
  for (const TestDatabase& db : app_databases(dir)) {
    INFO(db.engine);
    const std::string esc = db.engine == "sqlite" ? "char(27)" : "chr(27)";
    execute_sql(db.uri, "UPDATE app_users SET display_name = '" + std::string(300, 'A') +
                            "' WHERE username = 'alice';"
                            "UPDATE app_users SET matrix_localpart = '" +
                            std::string(243, 'b') +
                            "' WHERE username = 'bob';"
                            "UPDATE communities SET name = 'Harbor' || " +
                            esc + " || '[2J' WHERE slug = 'harbor'");
    adapters::LoadedDesired loaded = adapters::load_desired({k_policies}, db.uri, {}, naming);
    CHECK(joined(loaded.diagnostics) ==
          "table app_users row alice column display_name: user \"alice\": displayName is 300 characters long; "
          "Synapse accepts at most 256\n"
          "table app_users row bob column localpart: user \"bob\": user id \"@" +
              std::string(79, 'b') +
              "\"… would be 256 bytes long; the spec allows at most 255\n"
              "table communities row harbor column name: community \"harbor\": invalid name: contains a control "
              "character (U+001B)\n");
  }
}

}  // namespace app_database_test
