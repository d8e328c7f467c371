// HttpHomeserver::probe(): what the homeserver is and what the bot may do
// there, including whether Synapse rate-limits it.

#include <sstream>

#include "adapters/homeserver/answer_shape.h"
#include "adapters/homeserver/api_paths.h"
#include "adapters/homeserver/error_context.h"
#include "adapters/homeserver/http_homeserver.h"
#include "adapters/redact.h"

namespace adapters {

namespace {

// The token itself was refused (not the server failing to say).
bool token_refused(const MatrixFailure& failure) {
  const std::string& errcode = failure.error.errcode;
  return failure.status == 401 || errcode == "M_UNKNOWN_TOKEN" || errcode == "M_MISSING_TOKEN";
}

// What a failed admin API request says about the API: absent (an unknown
// endpoint: 404, or 400 M_UNRECOGNIZED as Synapse answers some), the token
// not accepted (401), refused to the bot (403), or none of these (the
// server or the way to it failed: 5xx, no answer, a malformed one).
enum class AdminAnswer { absent, unauthenticated, refused, failed };

AdminAnswer admin_answer(const MatrixFailure& failure) {
  if (failure.status == 404 || failure.error.errcode == "M_UNRECOGNIZED") {
    return AdminAnswer::absent;
  }
  if (failure.status == 401) {
    return AdminAnswer::unauthenticated;
  }
  if (failure.status == 403) {
    return AdminAnswer::refused;
  }
  return AdminAnswer::failed;
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
  const std::string server = redact(m_settings.homeserver_url, {});
  auto versions = m_client.get("/_matrix/client/versions");
  if (!versions) {
    return failed(versions.error(), versions.error().status == 0
                                        ? "cannot reach the homeserver at " + server
                                        : "the server at " + server + " does not answer as a Matrix homeserver");
  }
  {
    // {versions: [string], unstable_features?}: the spec's required field.
    Answer answer("GET", "/_matrix/client/versions", *versions);
    auto listed = answer.field(*versions, "", "versions", JsonType::array);
    if (!listed) {
      return failed(listed.error(), "the server at " + server + " does not answer as a Matrix homeserver");
    }
    std::size_t index = 0;
    for (const nlohmann::json& version : **listed) {
      auto text = answer.value(version, "versions[" + std::to_string(index++) + "]", JsonType::string);
      if (!text) {
        return failed(text.error(), "the server at " + server + " does not answer as a Matrix homeserver");
      }
      caps.versions.push_back(version.get<std::string>());
    }
  }
  // With an appservice's as_token, whoami names the appservice's sender.
  const std::string whoami_path = api::k_client + "/account/whoami";
  auto whoami = m_client.get(whoami_path);
  if (!whoami) {
    // Only the server's refusal of the token blames the token; a timeout or
    // a 5xx says nothing about it.
    if (!token_refused(whoami.error())) {
      return failed(whoami.error(), "cannot check the access token (whoami)");
    }
    return failed(whoami.error(), appservice ? "the appservice's as_token was not accepted (is the registration "
                                               "loaded by the homeserver?)"
                                             : "the bot's access token was not accepted");
  }
  auto user_id = Answer("GET", whoami_path, *whoami).string(*whoami, "", "user_id");
  if (!user_id) {
    return failed(user_id.error(), "cannot check the access token (whoami)");
  }
  caps.user_id = *user_id;
  if (caps.user_id != m_settings.bot_user_id) {
    return model::fail(model::Error::Kind::forbidden,
                       appservice ? "the access token belongs to " + caps.user_id + ", not to the configured bot " +
                                        m_settings.bot_user_id + "; with an appservice the bot is the registration's "
                                                                 "sender_localpart"
                                  : "the access token belongs to " + caps.user_id + ", not to the configured bot " +
                                        m_settings.bot_user_id);
  }
  if (auto admin = probe_admin_api(caps); !admin) {
    return tl::unexpected(admin.error());
  }
  caps.rate_limits = probe_rate_limits(caps);
  m_capabilities = caps;
  m_assumed = false;
  m_rate_limits_known = true;
  return caps;
}

const RateLimits& HttpHomeserver::rate_limits() {
  if (!m_rate_limits_known) {
    m_capabilities.rate_limits = probe_rate_limits(m_capabilities);
    m_rate_limits_known = true;
  }
  return m_capabilities.rate_limits;
}

model::Result<void> HttpHomeserver::probe_admin_api(Capabilities& caps) {
  // Only synapse-admin provisioning needs the admin API; an appservice
  // merely learns whether the server is Synapse (for its rate limits).
  const bool needed = m_settings.provisioning == model::ProvisioningMode::synapse_admin;
  const std::string context = "provisioning is synapse-admin but ";
  const std::string version_path = api::k_admin_v1 + "/server_version";
  auto version = m_client.get(version_path);
  if (!version) {
    if (!needed) {
      return {};
    }
    switch (admin_answer(version.error())) {
      case AdminAnswer::absent:
        return model::fail(model::Error::Kind::forbidden,
                           context + "the homeserver has no Synapse admin API; use provisioning: appservice");
      case AdminAnswer::unauthenticated:
      case AdminAnswer::refused:
        return failed(version.error(), context + "the Synapse admin API refused the bot (a proxy in front of "
                                                 "the homeserver may block /_synapse/admin)");
      case AdminAnswer::failed: break;
    }
    return failed(version.error(), context + "the Synapse admin API did not answer");
  }
  auto server_version = Answer("GET", version_path, *version).string(*version, "", "server_version");
  if (!server_version) {
    return needed ? failed(server_version.error(), context + "the Synapse admin API did not answer")
                  : model::Result<void>();
  }
  caps.synapse_version = "Synapse " + *server_version;
  // One user is enough to learn whether the bot may use the API. Each way
  // this can fail is said as it is: only a 403 means "not a server admin".
  const std::string users_path = api::k_admin_v2 + "/users?limit=1";
  auto users = m_client.get(users_path);
  if (users) {
    auto listed = Answer("GET", users_path, *users).field(*users, "", "users", JsonType::array);
    if (!listed) {
      return needed ? failed(listed.error(), context + "the Synapse admin API failed to list users")
                    : model::Result<void>();
    }
    caps.server_admin = true;
    return {};
  }
  if (!needed) {
    return {};
  }
  switch (admin_answer(users.error())) {
    case AdminAnswer::refused:
      return failed(users.error(), context + m_settings.bot_user_id + " is not a server admin on " +
                                       caps.synapse_version);
    case AdminAnswer::unauthenticated:
      return failed(users.error(), context + caps.synapse_version +
                                       "'s user admin API did not accept the bot's access token");
    case AdminAnswer::absent:
      return failed(users.error(), context + caps.synapse_version + " has no user admin API at " + api::k_admin_v2 +
                                       "/users (a proxy may hide it)");
    case AdminAnswer::failed: break;
  }
  return failed(users.error(), context + "the Synapse admin API failed to list users");
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
  const std::string lift = "an admin can lift it: POST " + api::k_admin_v1 + "/users/" + bot +
                           "/override_ratelimit with {\"messages_per_second\": 0, \"burst_count\": 0}";
  if (caps.server_admin) {
    // {} when no override is set; messages_per_second 0 exempts the user.
    // A malformed answer leaves the limits unknown (they only inform a note).
    const std::string path = api::k_admin_v1 + "/users/" + encode_path_segment(bot) + "/override_ratelimit";
    auto found = m_client.get(path);
    std::optional<RateOverride> override_rate;
    if (found) {
      Answer answer("GET", path, *found);
      auto per_second = answer.optional_field(*found, "", "messages_per_second", JsonType::number);
      auto burst = answer.optional_field(*found, "", "burst_count", JsonType::number);
      if (!answer.body(JsonType::object) || !per_second || !burst) {
        return limits;
      }
      if (*per_second) {
        override_rate = RateOverride{(*per_second)->get<double>(), *burst ? (*burst)->get<double>() : 0};
      }
    }
    if (override_rate) {
      double per_second = override_rate->messages_per_second;
      if (per_second == 0) {
        limits.state = RateLimits::State::unlimited;
        return limits;
      }
      double burst = override_rate->burst_count;
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
