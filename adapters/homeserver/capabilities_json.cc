#include "adapters/homeserver/capabilities_json.h"

#include <openssl/evp.h>

#include <array>

#include <nlohmann/json.hpp>

namespace adapters {

namespace {

// Bumped whenever the shape below changes: an older answer is then not read.
// Rate limits are not kept: they are asked when a plan has writes, so that a
// limit an operator lifts shows at once.
constexpr int k_version = 1;

std::string sha256_hex(const std::string& text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &size, EVP_sha256(), nullptr);
  static const char* k_hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < size; ++i) {
    out += k_hex[digest[i] >> 4];
    out += k_hex[digest[i] & 0xf];
  }
  return out;
}

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
