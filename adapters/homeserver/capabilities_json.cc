#include "adapters/homeserver/capabilities_json.h"

#include <nlohmann/json.hpp>

#include "adapters/sha256.h"

namespace adapters {

namespace {

// Bumped whenever the shape below changes: an older answer is then not read.
// Rate limits are not kept: they are asked when a plan has writes, so that a
// limit an operator lifts shows at once.
constexpr int k_version = 1;

}  // namespace

std::string probe_key(const model::Settings& settings, const std::string& access_token) {
  const char* mode = settings.provisioning == model::ProvisioningMode::appservice ? "appservice" : "synapse-admin";
  // The digest is over the token alone; the rest is readable, for whoever
  // looks into the store.
  return settings.homeserver_url + " " + mode + " " + settings.bot_user_id + " sha256:" + sha256_hex(access_token);
}

std::string capabilities_json(const Capabilities& caps) {
  return nlohmann::json{{"v", k_version},
                        {"user_id", caps.user_id},
                        {"synapse_version", caps.synapse_version},
                        {"server_admin", caps.server_admin},
                        {"versions", caps.versions}}
      .dump();
}

std::optional<Capabilities> capabilities_from_json(const std::string& text) {
  const nlohmann::json json = nlohmann::json::parse(text, nullptr, false);
  if (!json.is_object() || json.value("v", nlohmann::json()) != k_version) {
    return std::nullopt;
  }
  auto string_at = [](const nlohmann::json& object, const char* name) -> std::optional<std::string> {
    auto it = object.find(name);
    return it != object.end() && it->is_string() ? std::optional<std::string>(it->get<std::string>())
                                                 : std::nullopt;
  };
  Capabilities caps;
  auto user_id = string_at(json, "user_id");
  auto synapse_version = string_at(json, "synapse_version");
  auto admin = json.find("server_admin");
  auto versions = json.find("versions");
  if (!user_id || user_id->empty() || !synapse_version || admin == json.end() || !admin->is_boolean() ||
      versions == json.end() || !versions->is_array()) {
    return std::nullopt;
  }
  caps.user_id = *user_id;
  caps.synapse_version = *synapse_version;
  caps.server_admin = admin->get<bool>();
  for (const nlohmann::json& version : *versions) {
    if (!version.is_string()) {
      return std::nullopt;
    }
    caps.versions.push_back(version.get<std::string>());
  }
  return caps;
}

}  // namespace adapters
