#include <catch2/catch.hpp>

#include "adapters/manifests/appservice_registration.h"
#include "adapters/manifests/settings_file.h"
#include "tests/support/temp_dir.h"

namespace settings_file_test {

namespace {

adapters::Environment env_of(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) {
      return std::nullopt;
    }
    return it->second;
  };
}

}  // namespace

TEST_CASE("settings: config file values, then the environment on top", "[settings]") {
  testing_support::TempDir dir;
  std::string config = dir.write("mxctl.yaml", R"(homeserverUrl: https://matrix.example.org/
serverName: example.org
aliasPrefix: app.
gracePeriodDays: 30
provisioning: appservice
roomVersion: "11"
accessTokenFile: /run/secrets/mxctl
)");
  SECTION("file only") {
    auto loaded = adapters::load_settings(config, env_of({}));
    REQUIRE(loaded.diagnostics.empty());
    CHECK(loaded.settings.homeserver_url == "https://matrix.example.org");
    CHECK(loaded.settings.server_name == "example.org");
    CHECK(loaded.settings.bot_user_id == "@mxctl:example.org");
    CHECK(loaded.settings.alias_prefix == "app.");
    CHECK(loaded.settings.grace_period_days == 30);
    CHECK(loaded.settings.provisioning == model::ProvisioningMode::appservice);
    CHECK(loaded.settings.room_version == "11");
    CHECK(loaded.access_token_file == std::optional<std::string>("/run/secrets/mxctl"));
  }
  SECTION("environment overrides") {
    auto loaded = adapters::load_settings(config, env_of({{"MATRIX_HOMESERVER_URL", "http://127.0.0.1:8008"},
                                                          {"MATRIX_SERVER_NAME", "other.org"},
                                                          {"MATRIX_BOT_USER_ID", "@bot:other.org"}}));
    REQUIRE(loaded.diagnostics.empty());
    CHECK(loaded.settings.homeserver_url == "http://127.0.0.1:8008");
    CHECK(loaded.settings.server_name == "other.org");
    CHECK(loaded.settings.bot_user_id == "@bot:other.org");
  }
}

TEST_CASE("settings: mistakes are reported with their position", "[settings]") {
  testing_support::TempDir dir;
  std::string config = dir.write("bad.yaml", R"(serverName: example.org
graceperiodDays: 10
accessToken: syt_secret
provisioning: synapse-admn
gracePeriodDays: -3
)");
  auto loaded = adapters::load_settings(config, env_of({}));
  std::vector<std::string> messages;
  for (const auto& d : loaded.diagnostics) {
    messages.push_back(d.to_string());
  }
  CHECK(messages == std::vector<std::string>{
                        config + ":2:1: config: unknown setting \"graceperiodDays\" (did you mean \"gracePeriodDays\"?)",
                        config + ":3:1: config: access tokens are never read from the config file; set "
                                 "MATRIX_BOT_ACCESS_TOKEN or accessTokenFile",
                        config + ":4:15: config: provisioning must be \"synapse-admin\" or \"appservice\", not "
                                 "\"synapse-admn\" (did you mean \"synapse-admin\"?)",
                        config + ":5:18: config: gracePeriodDays must be a whole number of days, at least 1",
                    });
  SECTION("the secret itself is never echoed") {
    for (const auto& message : messages) {
      CHECK(message.find("syt_secret") == std::string::npos);
    }
  }
}

TEST_CASE("settings: invalid yaml points at the parse error", "[settings]") {
  testing_support::TempDir dir;
  std::string config = dir.write("broken.yaml", "serverName: [unclosed\n");
  auto loaded = adapters::load_settings(config, env_of({}));
  REQUIRE(loaded.diagnostics.size() == 1);
  CHECK(loaded.diagnostics[0].where.file == config);
  CHECK(loaded.diagnostics[0].where.line >= 1);
  CHECK(loaded.diagnostics[0].message.rfind("invalid yaml: ", 0) == 0);
}

TEST_CASE("settings: connection settings name the variable that sets them", "[settings]") {
  auto loaded = adapters::load_settings("", env_of({}));
  auto missing = adapters::require_connection_settings(loaded);
  REQUIRE(missing.size() == 2);
  CHECK(missing[0].message == "no homeserver url: set MATRIX_HOMESERVER_URL or homeserverUrl in the config");
  CHECK(missing[1].message == "no server name: set MATRIX_SERVER_NAME or serverName in the config");
  SECTION("bad values are refused") {
    auto bad = adapters::load_settings("", env_of({{"MATRIX_HOMESERVER_URL", "matrix.example.org"},
                                                   {"MATRIX_BOT_USER_ID", "mxctl"}}));
    REQUIRE(bad.diagnostics.size() == 2);
    CHECK(bad.diagnostics[0].message ==
          "homeserver url must start with http:// or https://, got \"matrix.example.org\"");
    CHECK(bad.diagnostics[1].message ==
          "bot user id must be a full matrix id like \"@mxctl:example.org\", got \"mxctl\"");
  }
}

TEST_CASE("settings: the access token comes from the environment or a file", "[settings]") {
  testing_support::TempDir dir;
  std::string token_file = dir.write("token", "  syt_from_file\n");
  adapters::LoadedSettings loaded;
  SECTION("variable wins") {
    loaded.access_token_file = token_file;
    auto token = adapters::load_access_token(loaded, env_of({{"MATRIX_BOT_ACCESS_TOKEN", "syt_env"}}));
    REQUIRE(token);
    CHECK(*token == "syt_env");
  }
  SECTION("file, trimmed") {
    loaded.access_token_file = token_file;
    auto token = adapters::load_access_token(loaded, env_of({}));
    REQUIRE(token);
    CHECK(*token == "syt_from_file");
  }
  SECTION("none configured") {
    auto token = adapters::load_access_token(loaded, env_of({}));
    REQUIRE_FALSE(token);
    CHECK(token.error().kind == model::Error::Kind::not_found);
    CHECK(token.error().message == "no access token: set MATRIX_BOT_ACCESS_TOKEN or MATRIX_BOT_ACCESS_TOKEN_FILE");
  }
  SECTION("empty file") {
    loaded.access_token_file = dir.write("empty", "\n");
    auto token = adapters::load_access_token(loaded, env_of({}));
    REQUIRE_FALSE(token);
    CHECK(token.error().message == "access token file " + *loaded.access_token_file + " is empty");
  }
}

TEST_CASE("settings: an appservice registration gives the bot, the token and the rate limit", "[settings][appservice]") {
  testing_support::TempDir dir;
  std::string registration = dir.write("mxctl-registration.yaml", R"(id: mxctl
url: null
as_token: as_secret_token
hs_token: hs_secret_token
sender_localpart: mxctl-bot
rate_limited: false
namespaces:
  users:
    - exclusive: true
      regex: "@.*:example\\.org"
)");
  std::string config = dir.write("mxctl.yaml", "homeserverUrl: https://matrix.example.org\nserverName: example.org\n"
                                               "provisioning: appservice\nappserviceRegistration: " +
                                                   registration + "\n");
  SECTION("read from the registration") {
    auto loaded = adapters::load_settings(config, env_of({}));
    REQUIRE(loaded.diagnostics.empty());
    CHECK(loaded.appservice_registration_file == std::optional<std::string>(registration));
    CHECK(loaded.settings.bot_user_id == "@mxctl-bot:example.org");
    CHECK_FALSE(loaded.settings.appservice_rate_limited);
    auto token = adapters::load_access_token(loaded, env_of({}));
    REQUIRE(token);
    CHECK(*token == "as_secret_token");
    SECTION("MATRIX_BOT_ACCESS_TOKEN still wins") {
      auto env_token = adapters::load_access_token(loaded, env_of({{"MATRIX_BOT_ACCESS_TOKEN", "other"}}));
      REQUIRE(env_token);
      CHECK(*env_token == "other");
    }
  }
  SECTION("a bot that is not the sender is refused") {
    auto loaded = adapters::load_settings(config, env_of({{"MATRIX_BOT_USER_ID", "@mxctl:example.org"}}));
    REQUIRE(loaded.diagnostics.size() == 1);
    CHECK(loaded.diagnostics[0].message ==
          "bot user id @mxctl:example.org is not the appservice's sender @mxctl-bot:example.org (sender_localpart in " +
              registration + "); leave botUserId unset");
  }
  SECTION("only with appservice provisioning") {
    std::string admin = dir.write("admin.yaml", "serverName: example.org\nappserviceRegistration: " + registration +
                                                    "\n");
    auto loaded = adapters::load_settings(admin, env_of({}));
    REQUIRE(loaded.diagnostics.size() == 1);
    CHECK(loaded.diagnostics[0].message ==
          "appserviceRegistration is set but provisioning is synapse-admin; set provisioning: appservice");
  }
  SECTION("problems in the registration name the file and never echo the token") {
    std::string broken = dir.write("broken.yaml", "id: mxctl\nas_token: as_secret_token\nrate_limited: maybe\n");
    std::string bad = dir.write("bad.yaml", "serverName: example.org\nprovisioning: appservice\n"
                                            "appserviceRegistration: " + broken + "\n");
    auto loaded = adapters::load_settings(bad, env_of({}));
    REQUIRE(loaded.diagnostics.size() == 1);
    CHECK(loaded.diagnostics[0].to_string() ==
          "settings: " + broken + ": appservice registration: missing sender_localpart");
    auto missing = adapters::load_settings(
        dir.write("missing.yaml", "serverName: example.org\nprovisioning: appservice\nappserviceRegistration: "
                                  "/nonexistent/reg.yaml\n"),
        env_of({}));
    REQUIRE(missing.diagnostics.size() == 1);
    CHECK(missing.diagnostics[0].message == "cannot read appservice registration /nonexistent/reg.yaml");
  }
}

TEST_CASE("appservice registration: the keys mxctl needs are checked", "[settings][appservice]") {
  auto ok = adapters::parse_appservice_registration("id: x\nas_token: t\nsender_localpart: bot\n", "reg.yaml");
  REQUIRE(ok);
  CHECK(ok->rate_limited);
  CHECK(ok->sender_localpart == "bot");
  auto bad_flag = adapters::parse_appservice_registration(
      "id: x\nas_token: t\nsender_localpart: bot\nrate_limited: sometimes\n", "reg.yaml");
  REQUIRE_FALSE(bad_flag);
  CHECK(bad_flag.error().message == "reg.yaml:4:15: appservice registration: rate_limited must be true or false");
  auto not_map = adapters::parse_appservice_registration("- a\n", "reg.yaml");
  REQUIRE_FALSE(not_map);
  CHECK(not_map.error().message == "reg.yaml: appservice registration: expected a mapping");
}

TEST_CASE("settings: membership policy keys", "[settings]") {
  testing_support::TempDir dir;
  SECTION("read as booleans") {
    std::string config = dir.write("m.yaml", "reinviteToCommunityRooms: true\nreinviteToCouncilRooms: false\n"
                                             "forceJoin: true\n");
    auto loaded = adapters::load_settings(config, env_of({}));
    REQUIRE(loaded.diagnostics.empty());
    CHECK(loaded.settings.reinvite_to_community_rooms);
    CHECK_FALSE(loaded.settings.reinvite_to_council_rooms);
    CHECK(loaded.settings.force_join);
  }
  SECTION("defaults") {
    auto loaded = adapters::load_settings("", env_of({}));
    CHECK_FALSE(loaded.settings.reinvite_to_community_rooms);
    CHECK(loaded.settings.reinvite_to_council_rooms);
    CHECK_FALSE(loaded.settings.force_join);
  }
  SECTION("mistakes") {
    std::string config = dir.write("bad.yaml", "forceJoin: yes\n");
    auto loaded = adapters::load_settings(config, env_of({}));
    REQUIRE(loaded.diagnostics.size() == 1);
    CHECK(loaded.diagnostics[0].to_string() == config + ":1:12: config: forceJoin must be true or false, got \"yes\"");
    std::string appservice = dir.write("as.yaml", "provisioning: appservice\nforceJoin: true\n");
    auto refused = adapters::load_settings(appservice, env_of({}));
    REQUIRE_FALSE(refused.diagnostics.empty());
    CHECK(refused.diagnostics.back().message == "forceJoin needs the Synapse admin API (provisioning: synapse-admin)");
  }
}

TEST_CASE("settings: the mass-change guard's limits are read and checked", "[settings]") {
  testing_support::TempDir dir;
  SECTION("defaults: 20% or 100 objects") {
    auto loaded = adapters::load_settings("", env_of({}));
    CHECK(loaded.settings.mass_change_max_percent == 20);
    CHECK(loaded.settings.mass_change_max_count == 100);
  }
  SECTION("set") {
    std::string config = dir.write("ok.yaml", "massChangeMaxPercent: 35\nmassChangeMaxCount: 7\n");
    auto loaded = adapters::load_settings(config, env_of({}));
    CHECK(loaded.diagnostics.empty());
    CHECK(loaded.settings.mass_change_max_percent == 35);
    CHECK(loaded.settings.mass_change_max_count == 7);
  }
  SECTION("out of range") {
    std::string config = dir.write("bad.yaml", "massChangeMaxPercent: 120\nmassChangeMaxCount: many\n");
    auto loaded = adapters::load_settings(config, env_of({}));
    std::vector<std::string> messages;
    for (const auto& d : loaded.diagnostics) {
      messages.push_back(d.to_string());
    }
    CHECK(messages == std::vector<std::string>{
                          config + ":1:23: config: massChangeMaxPercent must be a whole number from 0 to 100",
                          config + ":2:21: config: massChangeMaxCount must be a whole number, at least 0",
                      });
  }
}

TEST_CASE("settings: deactivatedAccounts chooses suspension (default) or Synapse's deactivation", "[settings]") {
  testing_support::TempDir dir;
  CHECK_FALSE(adapters::load_settings("", env_of({})).settings.deactivate_accounts);
  std::string good = dir.write("good.yaml", "deactivatedAccounts: deactivate\n");
  CHECK(adapters::load_settings(good, env_of({})).settings.deactivate_accounts);
  std::string bad = dir.write("bad.yaml", "deactivatedAccounts: erase\n");
  auto loaded = adapters::load_settings(bad, env_of({}));
  REQUIRE(loaded.diagnostics.size() == 1);
  CHECK(loaded.diagnostics[0].to_string() ==
        bad + ":1:22: config: deactivatedAccounts must be \"suspend\" or \"deactivate\", not \"erase\"");
  CHECK_FALSE(loaded.settings.deactivate_accounts);
}

TEST_CASE("settings: a setting written twice is an error at the second, never last-wins", "[settings][limits]") {
  testing_support::TempDir dir;
  std::string config = dir.write("twice.yaml", R"(serverName: example.org
massChangeMaxPercent: 20
deactivatedAccounts: suspend
massChangeMaxPercent: 100
appDatabase:
  queries:
    users: SELECT username AS key FROM app_users
    users: SELECT 'x' AS key
  queries: {}
)");
  auto loaded = adapters::load_settings(config, env_of({}));
  std::vector<std::string> messages;
  for (const auto& d : loaded.diagnostics) {
    messages.push_back(d.to_string());
  }
  CHECK(messages == std::vector<std::string>{
                        config + ":4:1: config: duplicate setting \"massChangeMaxPercent\" (first set at 2:1)",
                        config + ":8:5: config: duplicate setting \"appDatabase.queries.users\" (first set at 7:5)",
                        config + ":9:3: config: duplicate setting \"appDatabase.queries\" (first set at 6:3)",
                    });
  // The first value stands; the guard never silently widens to 100%.
  CHECK(loaded.settings.mass_change_max_percent == 20);
  CHECK(loaded.app_database.queries.at("users") == "SELECT username AS key FROM app_users");
}

TEST_CASE("settings: what goes into events is held to the homeserver's limits", "[settings][limits]") {
  testing_support::TempDir dir;
  std::string config = dir.write("long.yaml", "serverName: example.org\nmarkerEventType: org.example." +
                                                  std::string(240, 'm') + "\ninstance: " + std::string(70000, 'i') +
                                                  "\n");
  auto loaded = adapters::load_settings(config, env_of({{"MATRIX_BOT_USER_ID", "@" + std::string(260, 'b') + ":x"}}));
  std::vector<std::string> messages;
  for (const auto& d : loaded.diagnostics) {
    messages.push_back(d.to_string());
  }
  CHECK(messages == std::vector<std::string>{
                        "settings: bot user id is 263 bytes long; the spec allows at most 255",
                        "settings: markerEventType is too long: with \".archive\" added it is 260 bytes, and an event "
                        "type may have at most 255",
                        "settings: instance is too long for the ownership marker event (70280 bytes of content, at "
                        "most 61440)",
                    });
}

TEST_CASE("settings: appserviceListen is where run serves the appservice API, absent, nowhere", "[settings]") {
  testing_support::TempDir dir;
  std::string with = dir.write("with.yaml", "serverName: example.org\nappserviceListen: 127.0.0.1:9555\n");
  auto loaded = adapters::load_settings(with, env_of({}));
  CHECK(loaded.diagnostics.empty());
  CHECK(loaded.appservice_listen == "127.0.0.1:9555");
  std::string without = dir.write("without.yaml", "serverName: example.org\n");
  CHECK(adapters::load_settings(without, env_of({})).appservice_listen.empty());
}

}  // namespace settings_file_test
