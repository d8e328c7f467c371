// The settings that bound what the homeserver may cost a pass (timeouts,
// answer sizes, the pass deadline) and what it must prove (caFile): read,
// checked and passed on to the HTTP client; and a homeserver URL with a
// password in it refused without printing the password.

#include <catch2/catch.hpp>

#include "adapters/homeserver/http_homeserver.h"
#include "adapters/manifests/settings_file.h"
#include "tests/support/temp_dir.h"

namespace settings_bounds_test {

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

std::vector<std::string> messages_of(const adapters::LoadedSettings& loaded) {
  std::vector<std::string> messages;
  for (const auto& d : loaded.diagnostics) {
    messages.push_back(d.to_string());
  }
  return messages;
}

}  // namespace

TEST_CASE("settings: the bounds on the homeserver's answers have defaults and reach the client", "[settings]") {
  testing_support::TempDir dir;
  const std::string ca = dir.write("ca.pem", "-----BEGIN CERTIFICATE-----\n");
  SECTION("defaults") {
    auto loaded = adapters::load_settings("", env_of({}));
    REQUIRE(loaded.diagnostics.empty());
    const model::Settings& s = loaded.settings;
    CHECK(s.read_timeout_seconds == 30);
    CHECK(s.request_timeout_seconds == 120);
    CHECK(s.sync_timeout_seconds == 600);
    CHECK(s.max_answer_megabytes == 64);
    CHECK(s.max_sync_answer_megabytes == 512);
    CHECK(s.pass_timeout_minutes == 360);
    CHECK(s.ca_file.empty());
  }
  SECTION("from the config file, into the client's options") {
    std::string config = dir.write("mxctl.yaml", "readTimeoutSeconds: 5\nrequestTimeoutSeconds: 60\n"
                                                 "syncTimeoutSeconds: 300\nmaxAnswerMegabytes: 8\n"
                                                 "maxSyncAnswerMegabytes: 100\npassTimeoutMinutes: 30\n"
                                                 "caFile: " + ca + "\n");
    auto loaded = adapters::load_settings(config, env_of({}));
    REQUIRE(messages_of(loaded).empty());
    const auto started = std::chrono::steady_clock::now();
    adapters::ClientOptions options = adapters::client_options(loaded.settings, started);
    CHECK(options.read_timeout == std::chrono::seconds(5));
    CHECK(options.limits.deadline == std::chrono::seconds(60));
    CHECK(options.limits.max_bytes == 8u << 20);
    CHECK(options.large_limits.deadline == std::chrono::seconds(300));
    CHECK(options.large_limits.max_bytes == 100u << 20);
    REQUIRE(options.deadline);
    CHECK(*options.deadline == started + std::chrono::minutes(30));
    CHECK(options.ca_file == ca);
  }
}

TEST_CASE("settings: bounds out of range and an unreadable caFile are errors", "[settings]") {
  testing_support::TempDir dir;
  std::string config = dir.write("mxctl.yaml", "readTimeoutSeconds: 0\nmaxAnswerMegabytes: lots\n"
                                               "passTimeoutMinutes: 20000\ncaFile: /nonexistent/ca.pem\n");
  auto loaded = adapters::load_settings(config, env_of({}));
  CHECK(messages_of(loaded) ==
        std::vector<std::string>{
            config + ":1:21: config: readTimeoutSeconds must be a whole number of seconds from 1 to 3600",
            config + ":2:21: config: maxAnswerMegabytes must be a whole number of MB from 1 to 4096",
            config + ":3:21: config: passTimeoutMinutes must be a whole number of minutes from 1 to 10080",
            "settings: caFile /nonexistent/ca.pem cannot be read",
        });
}

TEST_CASE("settings: a homeserver url with a password is refused without showing it", "[settings]") {
  SECTION("from the environment") {
    auto loaded =
        adapters::load_settings("", env_of({{"MATRIX_HOMESERVER_URL", "https://admin:hunter2@matrix.example.org"}}));
    CHECK(messages_of(loaded) ==
          std::vector<std::string>{"settings: homeserver url https://admin:<redacted>@matrix.example.org carries a "
                                   "user name or password, which mxctl does not send; remove them (the access "
                                   "token is the credential)"});
  }
  SECTION("from the config file, with another mistake") {
    testing_support::TempDir dir;
    std::string config = dir.write("mxctl.yaml", "homeserverUrl: ftp://admin:hunter2@matrix.example.org/\n");
    auto loaded = adapters::load_settings(config, env_of({}));
    const auto messages = messages_of(loaded);
    REQUIRE(messages.size() == 2);
    CHECK(messages[0] ==
          "settings: homeserver url must start with http:// or https://, got \"ftp://admin:<redacted>@matrix.example.org\"");
    for (const std::string& message : messages) {
      CHECK(message.find("hunter2") == std::string::npos);
    }
  }
}

}  // namespace settings_bounds_test
