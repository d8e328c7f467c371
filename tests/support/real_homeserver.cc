#include "tests/support/real_homeserver.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "tests/support/synapse_process.h"

namespace testing_support {

namespace {

std::string env_or_empty(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

bool under_ci() {
  std::string ci = env_or_empty("CI");
  return !ci.empty() && ci != "false" && ci != "0";
}

std::string fresh_suffix() {
  std::random_device random;
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "t%08x", static_cast<unsigned>(random()));
  return buffer;
}

}  // namespace

std::unique_ptr<RealHomeserver> RealHomeserver::acquire(const HomeserverNeeds& needs) {
  std::unique_ptr<RealHomeserver> server(new RealHomeserver());
  const std::string url = env_or_empty("MXCTL_TEST_HOMESERVER_URL");
  const std::string name = env_or_empty("MXCTL_TEST_SERVER_NAME");
  const std::string token = env_or_empty("MXCTL_TEST_ADMIN_TOKEN");
  if (!url.empty() || !name.empty() || !token.empty()) {
    if (url.empty() || name.empty() || token.empty()) {
      FAIL("MXCTL_TEST_HOMESERVER_URL, MXCTL_TEST_SERVER_NAME and MXCTL_TEST_ADMIN_TOKEN go together: set all three "
           "(a staging server and a Synapse server admin's token) or none");
    }
    if (needs.own_server) {
      WARN("real-server test not run: it needs a homeserver configured for it (rate limits, an appservice "
           "registration), which only a Synapse the test starts itself has (unset MXCTL_TEST_HOMESERVER_URL to run "
           "it)");
      return nullptr;
    }
    server->m_base_url = url;
    server->m_server_name = name;
    server->m_admin_token = token;
    server->m_run_suffix = fresh_suffix();
    auto whoami = server->call("GET", "/_matrix/client/v3/account/whoami", token);
    INFO("GET whoami on " << url << ": " << whoami.describe());
    REQUIRE(whoami.ok());
    auto is_admin = server->admin("GET", "/_synapse/admin/v1/users/" +
                                             url_encode(whoami.body.value("user_id", "")) + "/admin");
    INFO("MXCTL_TEST_ADMIN_TOKEN must be a Synapse server admin's: " << is_admin.describe());
    REQUIRE(is_admin.ok());
    REQUIRE(admin_flag(is_admin.body.value("admin", nlohmann::json(false))));
    return server;
  }

  auto scripts = SynapseProcess::find_scripts();
  if (!scripts) {
    const std::string why = std::string("no homeserver: MXCTL_TEST_HOMESERVER_URL is not set and there is no Synapse "
                                        "at ") + MXCTL_SYNAPSE_DIR + " (nor at $MXCTL_SYNAPSE_DIR)";
    if (under_ci()) {
      FAIL(why + " (CI=true: the real-server suite must run)");
    }
    WARN("the real-server suite did not run: " << why);
    return nullptr;
  }
  SynapseOptions options;
  options.synapse_default_rate_limits = needs.synapse_default_rate_limits;
  options.appservice_config_files = needs.appservice_config_files;
  try {
    server->m_synapse = std::make_unique<SynapseProcess>(*scripts, options);
  } catch (const std::exception& error) {
    FAIL("cannot start Synapse from " << *scripts << " (scripts/install-deps installs what it needs): "
                                      << error.what());
  }
  server->m_base_url = server->m_synapse->base_url();
  server->m_server_name = options.server_name;
  server->m_admin_token = server->m_synapse->admin_token();
  return server;
}

RealHomeserver::~RealHomeserver() = default;

JsonAnswer RealHomeserver::call(const std::string& method, const std::string& target, const std::string& token,
                                const nlohmann::json& body) const {
  return http_json(m_base_url, method, target, token, body);
}

JsonAnswer RealHomeserver::admin(const std::string& method, const std::string& target,
                                 const nlohmann::json& body) const {
  return call(method, target, m_admin_token, body);
}

std::string RealHomeserver::user_id(const std::string& localpart) const {
  return "@" + localpart + ":" + m_server_name;
}

std::string RealHomeserver::make_server_admin(const std::string& localpart, const std::string& password) const {
  const std::string id = user_id(localpart);
  auto made = admin("PUT", "/_synapse/admin/v2/users/" + url_encode(id), {{"password", password}, {"admin", true}});
  INFO("PUT admin/v2/users/" << id << ": " << made.describe());
  REQUIRE(made.ok());
  return id;
}

std::string RealHomeserver::login_as(const std::string& user_id) const {
  auto login = admin("POST", "/_synapse/admin/v1/users/" + url_encode(user_id) + "/login", nlohmann::json::object());
  INFO("login as " << user_id << ": " << login.describe());
  REQUIRE(login.ok());
  return login.body.at("access_token").get<std::string>();
}

std::map<std::string, nlohmann::json> RealHomeserver::room_state(const std::string& room_id) const {
  auto state = admin("GET", "/_synapse/admin/v1/rooms/" + url_encode(room_id) + "/state");
  std::map<std::string, nlohmann::json> out;
  if (state.status == 404) {
    return out;
  }
  INFO("state of " << room_id << ": " << state.describe());
  REQUIRE(state.ok());
  for (const auto& event : state.body.at("state")) {
    out[event.at("type").get<std::string>() + "|" + event.at("state_key").get<std::string>()] =
        event.value("content", nlohmann::json::object());
  }
  return out;
}

std::optional<std::string> RealHomeserver::room_of_alias(const std::string& alias) const {
  auto found = admin("GET", "/_matrix/client/v3/directory/room/" + url_encode(alias));
  if (found.status == 404) {
    return std::nullopt;
  }
  INFO("alias " << alias << ": " << found.describe());
  REQUIRE(found.ok());
  return found.body.at("room_id").get<std::string>();
}

JsonAnswer RealHomeserver::room_details(const std::string& room_id) const {
  return admin("GET", "/_synapse/admin/v1/rooms/" + url_encode(room_id));
}

std::optional<nlohmann::json> RealHomeserver::user(const std::string& user_id) const {
  auto found = admin("GET", "/_synapse/admin/v2/users/" + url_encode(user_id));
  if (found.status == 404) {
    return std::nullopt;
  }
  INFO("user " << user_id << ": " << found.describe());
  REQUIRE(found.ok());
  return found.body;
}

std::vector<nlohmann::json> RealHomeserver::rooms() const {
  std::vector<nlohmann::json> out;
  std::string from = "0";
  while (true) {
    auto page = admin("GET", "/_synapse/admin/v1/rooms?limit=500&from=" + from);
    INFO("admin room list: " << page.describe());
    REQUIRE(page.ok());
    for (const auto& room : page.body.at("rooms")) {
      out.push_back(room);
    }
    if (!page.body.contains("next_batch") || page.body["next_batch"].is_null()) {
      return out;
    }
    const auto& next = page.body["next_batch"];
    from = next.is_string() ? next.get<std::string>() : std::to_string(next.get<long long>());
  }
}

std::vector<std::string> RealHomeserver::device_ids(const std::string& user_id) const {
  auto found = admin("GET", "/_synapse/admin/v2/users/" + url_encode(user_id) + "/devices");
  std::vector<std::string> out;
  if (found.status == 404) {
    return out;
  }
  INFO("devices of " << user_id << ": " << found.describe());
  REQUIRE(found.ok());
  for (const auto& device : found.body.at("devices")) {
    out.push_back(device.at("device_id").get<std::string>());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::size_t RealHomeserver::connections(const std::string& user_id) const {
  auto whois = admin("GET", "/_synapse/admin/v1/whois/" + url_encode(user_id));
  INFO("whois " << user_id << ": " << whois.describe());
  REQUIRE(whois.ok());
  std::size_t count = 0;
  const nlohmann::json devices = whois.body.value("devices", nlohmann::json::object());
  for (const auto& [device, info] : devices.items()) {
    const nlohmann::json sessions = info.value("sessions", nlohmann::json::array());
    for (const auto& session : sessions) {
      count += session.value("connections", nlohmann::json::array()).size();
    }
  }
  return count;
}

bool admin_flag(const nlohmann::json& value) {
  if (value.is_boolean()) {
    return value.get<bool>();
  }
  return value.is_number_integer() && value.get<long long>() != 0;
}

}  // namespace testing_support
