// HttpHomeserver::probe(): what the homeserver is and what the bot may do
// there, including whether Synapse rate-limits it.

#include <sstream>

#include "adapters/http_homeserver.h"

namespace adapters {

namespace {

const std::string k_client = "/_matrix/client/v3";
const std::string k_admin_v1 = "/_synapse/admin/v1";
const std::string k_admin_v2 = "/_synapse/admin/v2";

tl::unexpected<model::Error> failed(const MatrixFailure& failure, const std::string& action) {
  model::Error error = failure.error;
  error.message = action + ": " + error.message;
  return tl::unexpected(error);
}

// "0.5", "2": rates as people write them.
std::string number_text(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

}  // namespace

model::Result<Capabilities> HttpHomeserver::probe() {
  Capabilities caps;
  const bool appservice = m_settings.provisioning == model::ProvisioningMode::appservice;
  auto versions = m_client.get("/_matrix/client/versions");
  if (!versions) {
    return failed(versions.error(), "cannot reach the homeserver at " + m_settings.homeserver_url);
  }
  if (versions->contains("versions") && (*versions)["versions"].is_array()) {
    caps.versions = (*versions)["versions"].get<std::vector<std::string>>();
  }
  // With an appservice's as_token, whoami names the appservice's sender.
  auto whoami = m_client.get(k_client + "/account/whoami");
  if (!whoami) {
    return failed(whoami.error(), appservice ? "the appservice's as_token was not accepted (is the registration "
                                               "loaded by the homeserver?)"
                                             : "the bot's access token was not accepted");
  }
  caps.user_id = whoami->value("user_id", "");
  if (caps.user_id != m_settings.bot_user_id) {
    return model::fail(model::Error::Kind::forbidden,
                       appservice ? "the access token belongs to " + caps.user_id + ", not to the configured bot " +
                                        m_settings.bot_user_id + "; with an appservice the bot is the registration's "
                                                                 "sender_localpart"
                                  : "the access token belongs to " + caps.user_id + ", not to the configured bot " +
                                        m_settings.bot_user_id);
  }
  if (auto version = m_client.get(k_admin_v1 + "/server_version")) {
    caps.synapse_version = "Synapse " + version->value("server_version", "?");
    auto admin_probe = m_client.get(k_admin_v2 + "/users?limit=1");
    caps.server_admin = admin_probe.has_value();
  }
  if (m_settings.provisioning == model::ProvisioningMode::synapse_admin && !caps.server_admin) {
    return model::fail(model::Error::Kind::forbidden,
                       caps.synapse_version.empty()
                           ? "provisioning is synapse-admin but the homeserver has no Synapse admin API; use "
                             "provisioning: appservice"
                           : "provisioning is synapse-admin but " + m_settings.bot_user_id +
                                 " is not a server admin on " + caps.synapse_version);
  }
  caps.rate_limits = probe_rate_limits(caps);
  m_capabilities = caps;
  return caps;
}

RateLimits HttpHomeserver::probe_rate_limits(const Capabilities& caps) {
  RateLimits limits;
  const std::string& bot = m_settings.bot_user_id;
  const bool appservice = m_settings.provisioning == model::ProvisioningMode::appservice;
  if (appservice && !m_settings.appservice_rate_limited) {
    limits.state = RateLimits::State::unlimited;
    return limits;
  }
  if (caps.synapse_version.empty()) {
    return limits;  // Other homeservers' limits are not known here.
  }
  const std::string lift = "an admin can lift it: POST " + k_admin_v1 + "/users/" + bot +
                           "/override_ratelimit with {\"messages_per_second\": 0, \"burst_count\": 0}";
  if (caps.server_admin) {
    // {} when no override is set; messages_per_second 0 exempts the user.
    auto found = m_client.get(k_admin_v1 + "/users/" + encode_path_segment(bot) + "/override_ratelimit");
    if (found && found->value("messages_per_second", nlohmann::json()).is_number()) {
      double per_second = (*found)["messages_per_second"].get<double>();
      if (per_second == 0) {
        limits.state = RateLimits::State::unlimited;
        return limits;
      }
      double burst = found->value("burst_count", nlohmann::json(0)).is_number()
                         ? (*found)["burst_count"].get<double>()
                         : 0;
      limits.state = RateLimits::State::limited;
      limits.override_rate = RateOverride{per_second, burst};
      limits.description = bot + " has a rate-limit override of " + number_text(per_second) + " messages/s (burst " +
                           number_text(burst) + ") on " + caps.synapse_version;
      limits.remedy = lift;
      return limits;
    }
    if (found) {
      limits.state = RateLimits::State::limited;
      limits.description = bot + " has no rate-limit override on " + caps.synapse_version;
      limits.remedy = lift;
      return limits;
    }
  }
  if (appservice) {
    limits.state = RateLimits::State::limited;
    limits.description = "appservice sender " + bot + " is rate-limited on " + caps.synapse_version +
                         " (its registration does not say rate_limited: false)";
    limits.remedy = "set rate_limited: false in the registration and restart the homeserver";
  }
  return limits;
}

}  // namespace adapters
