#pragma once
// mxsim with an application service registration loaded (as Synapse's
// app_service_config_files would), and mxctl configured to provision through
// the same registration: the portable mode, with no Synapse admin API.

#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mxsim/appservice.h"
#include "mxsim/homeserver.h"
#include "mxsim/server.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace e2e {

/// The registration's sender, which mxctl acts as.
inline const std::string k_appservice_bot = "@mxctl:mxsim.test";

/// A registration for mxsim.test claiming every local user and mxctl's aliases.
inline std::string registration_yaml(bool rate_limited) {
  return std::string(R"(id: mxctl
url: null
as_token: as_token_for_mxctl_e2e
hs_token: hs_token_for_mxctl_e2e
sender_localpart: mxctl
rate_limited: )") +
         (rate_limited ? "true" : "false") + R"(
namespaces:
  users:
    - exclusive: true
      regex: "@.*:mxsim\\.test"
  aliases:
    - exclusive: false
      regex: "#mxctl\\..*:mxsim\\.test"
  rooms: []
)";
}

// mxsim with the registration loaded (as Synapse's app_service_config_files
// would), and a config pointing mxctl at the same file.
class AppserviceFixture {
 public:
  explicit AppserviceFixture(bool rate_limited = false)
      : m_server(mxsim::ServerOptions{std::string("mxsim.test"), "127.0.0.1", 0}) {
    m_registration = m_dir.write("mxctl-registration.yaml", registration_yaml(rate_limited));
    m_server.homeserver().add_appservice(mxsim::load_registration_file(m_registration));
    m_server.start();
    m_config = m_dir.write("mxctl.yaml", "homeserverUrl: " + m_server.base_url() + "\nserverName: " +
                                             std::string("mxsim.test") + "\nprovisioning: appservice\n"
                                             "appserviceRegistration: " + m_registration + "\n");
    std::filesystem::copy(std::string(MXCTL_SOURCE_DIR) + "/manifests", manifests(),
                          std::filesystem::copy_options::recursive);
  }

  std::string manifests() const { return (m_dir.path() / "manifests").string(); }
  /// The state store mxctl uses.
  std::string state() const { return (m_dir.path() / "mxctl.db").string(); }

  /// The config file mxctl is given.
  const std::string& config() const { return m_config; }
  /// The registration file both load.
  const std::string& registration() const { return m_registration; }
  /// A scratch path in the fixture's temporary directory.
  std::string scratch(const std::string& name) const { return (m_dir.path() / name).string(); }
  /// Only the config file and its registration: nothing from the caller's environment.
  std::map<std::string, std::string> env() const {
    return {{"MATRIX_HOMESERVER_URL", ""},        {"MATRIX_SERVER_NAME", ""},
            {"MATRIX_BOT_USER_ID", ""},           {"MATRIX_BOT_ACCESS_TOKEN", ""},
            {"MATRIX_BOT_ACCESS_TOKEN_FILE", ""}, {"MXCTL_STATE", state()},
            {"MXCTL_CONFIG", ""}};
  }

  testing_support::ProcessResult mxctl(std::vector<std::string> args) const {
    std::vector<std::string> argv = {MXCTL_BINARY, "--config", m_config};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing_support::run_process(argv, env());
  }

  /// Answers one request as the appservice's sender (the as_token), in
  /// process (no HTTP, no mxctl).
  mxsim::ApiResponse as_bot(const std::string& method, const std::string& target, const nlohmann::json& body) {
    return homeserver().handle(mxsim::make_request(
        method, target, {{"authorization", "Bearer as_token_for_mxctl_e2e"}}, body.is_null() ? "" : body.dump()));
  }

  /// Points the loaded registration at `url`, as an operator who edits
  /// the file and restarts the homeserver would (the homeserver calls the
  /// service there from now on).
  void set_registration_url(const std::string& url) {
    auto lock = homeserver().write_lock();
    for (mxsim::AppService& service : homeserver().state().appservices) {
      service.url = url;
    }
  }

  void edit(const std::string& file, const std::string& from, const std::string& to) const {
    std::string path = manifests() + "/" + file;
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto pos = text.find(from);
    REQUIRE(pos != std::string::npos);
    text.replace(pos, from.size(), to);
    std::ofstream(path, std::ios::trunc) << text;
  }

  mxsim::Homeserver& homeserver() { return m_server.homeserver(); }
  std::string base_url() const { return m_server.base_url(); }

  std::optional<mxsim::User> user(const std::string& user_id) {
    auto lock = homeserver().read_lock();
    mxsim::User* found = homeserver().state().find_user(user_id);
    return found ? std::optional<mxsim::User>(*found) : std::nullopt;
  }

  // Routes of the requests answered since `after` (journal sequence numbers).
  std::vector<std::string> routes_since(uint64_t after) {
    std::vector<std::string> out;
    for (const mxsim::JournalEntry& entry : homeserver().journal().entries(after)) {
      out.push_back(entry.route);
    }
    return out;
  }

 private:
  testing_support::TempDir m_dir;
  mxsim::Server m_server;
  std::string m_registration;
  std::string m_config;
};

}  // namespace e2e
