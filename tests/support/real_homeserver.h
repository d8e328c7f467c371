#pragma once
// A real homeserver for a test: an operator's staging server named by the
// environment, or a Synapse 1.67 the test starts itself. Besides reaching it,
// the helpers here read what the server holds straight from its APIs (admin
// API first), never from anything mxctl says about itself.
//
// Environment for an operator's server (all three, or none):
//   MXCTL_TEST_HOMESERVER_URL  client-server API base URL
//   MXCTL_TEST_SERVER_NAME     its server name
//   MXCTL_TEST_ADMIN_TOKEN     a Synapse server admin's access token

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/http_json.h"

namespace testing_support {

class SynapseProcess;

/// What a test needs from its homeserver.
struct HomeserverNeeds {
  /// The test needs the server configured for it (rate limits, appservices):
  /// only a server it starts itself will do; against an operator's server it
  /// is skipped with a WARN.
  bool own_server = false;
  /// Synapse's own default rate limits instead of relaxed ones.
  bool synapse_default_rate_limits = false;
  /// Appservice registration files the server loads (absolute paths).
  std::vector<std::string> appservice_config_files;
};

class RealHomeserver {
 public:
  /// The operator's server when MXCTL_TEST_HOMESERVER_URL is set, else a
  /// Synapse started here. Nothing when there is none or the test needs
  /// its own server: a WARN says the test did not run and why, except under
  /// CI=true where having no server at all is a FAIL. A server that is
  /// there but does not start or answer is a FAIL.
  static std::unique_ptr<RealHomeserver> acquire(const HomeserverNeeds& needs = {});
  /// Stops a self-started server; leaves an operator's alone.
  ~RealHomeserver();
  RealHomeserver(const RealHomeserver&) = delete;
  RealHomeserver& operator=(const RealHomeserver&) = delete;

  /// The client-server API base URL.
  const std::string& base_url() const { return m_base_url; }
  /// The server name in user ids and aliases.
  const std::string& server_name() const { return m_server_name; }
  /// A server admin's access token.
  const std::string& admin_token() const { return m_admin_token; }
  /// True for a Synapse this test started (a fresh database of its own).
  bool self_started() const { return m_synapse != nullptr; }
  /// Unique to this server object on an operator's server, empty on our own:
  /// put it in every name a test creates so that runs never meet real data
  /// or each other.
  const std::string& run_suffix() const { return m_run_suffix; }

  /// One request with `token` (empty: none).
  JsonAnswer call(const std::string& method, const std::string& target, const std::string& token,
                  const nlohmann::json& body = nullptr) const;
  /// One request as the server admin.
  JsonAnswer admin(const std::string& method, const std::string& target, const nlohmann::json& body = nullptr) const;

  /// Creates (or updates) @localpart as a server admin with a password
  /// (PUT /_synapse/admin/v2/users); returns the user id.
  std::string make_server_admin(const std::string& localpart, const std::string& password) const;
  /// A token acting as `user_id` (admin login-as: no device is made).
  std::string login_as(const std::string& user_id) const;
  /// The full user id of `localpart` on this server.
  std::string user_id(const std::string& localpart) const;

  /// The room's current state as "type|state_key" → content (admin API);
  /// empty when the server does not know the room.
  std::map<std::string, nlohmann::json> room_state(const std::string& room_id) const;
  /// The room an alias names (directory), nothing when it names none.
  std::optional<std::string> room_of_alias(const std::string& alias) const;
  /// GET /_synapse/admin/v1/rooms/{id}: its status (404 once deleted) and body.
  JsonAnswer room_details(const std::string& room_id) const;
  /// The admin API's account details, nothing for an unknown user.
  std::optional<nlohmann::json> user(const std::string& user_id) const;
  /// Every room in the admin room list (each as the API gives it).
  std::vector<nlohmann::json> rooms() const;
  /// The ids of the user's devices (admin API), sorted; empty for an unknown user.
  std::vector<std::string> device_ids(const std::string& user_id) const;
  /// The connections (access token and address pairs) the admin whois API
  /// lists for the user. A self-started Synapse counts requests made with
  /// an admin's login-as token too (track_puppeted_user_ips).
  std::size_t connections(const std::string& user_id) const;

 private:
  RealHomeserver() = default;

  std::unique_ptr<SynapseProcess> m_synapse;
  std::string m_base_url;
  std::string m_server_name;
  std::string m_admin_token;
  std::string m_run_suffix;
};

/// True when a Synapse 1.67 admin flag (0/1, or a boolean on newer releases) is set.
bool admin_flag(const nlohmann::json& value);

}  // namespace testing_support
