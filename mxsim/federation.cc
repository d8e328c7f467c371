#include "mxsim/federation.h"

#include <utility>

#include "mxsim/errors.h"

namespace mxsim {

nlohmann::json FederationSettings::to_json() const {
  return {{"unreachable", unreachable}, {"timeout_ms", timeout_ms}};
}

FederationSettings FederationSettings::from_json(const nlohmann::json& json, FederationSettings base) {
  try {
    if (json.contains("unreachable")) {
      base.unreachable = json.at("unreachable").get<std::set<std::string>>();
    }
    base.timeout_ms = json.value("timeout_ms", base.timeout_ms);
  } catch (const nlohmann::json::exception& error) {
    throw bad_json(std::string("bad federation settings: ") + error.what());
  }
  if (base.timeout_ms < 0) {
    throw bad_json("timeout_ms must be 0 or more");
  }
  return base;
}

void Federation::configure(FederationSettings settings) {
  std::lock_guard lock(m_mutex);
  m_settings = std::move(settings);
}

FederationSettings Federation::settings() const {
  std::lock_guard lock(m_mutex);
  return m_settings;
}

std::optional<std::string> Federation::unreachable_server_of(const std::string& user_id) const {
  const std::size_t colon = user_id.find(':');
  if (colon == std::string::npos) {
    return std::nullopt;
  }
  std::string server = user_id.substr(colon + 1);
  std::lock_guard lock(m_mutex);
  if (!m_settings.unreachable.count(server)) {
    return std::nullopt;
  }
  return server;
}

}  // namespace mxsim
