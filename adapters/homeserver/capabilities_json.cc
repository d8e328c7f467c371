#include "adapters/homeserver/capabilities_json.h"

#include <openssl/evp.h>

#include <array>

#include <nlohmann/json.hpp>

namespace adapters {

namespace {

// Bumped whenever the shape below changes: an older answer is then not read.
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

const char* state_name(RateLimits::State state) {
  switch (state) {
    case RateLimits::State::unknown: return "unknown";
    case RateLimits::State::unlimited: return "unlimited";
    case RateLimits::State::limited: return "limited";
  }
  return "unknown";
}

std::optional<RateLimits::State> state_named(const std::string& name) {
  for (RateLimits::State state :
       {RateLimits::State::unknown, RateLimits::State::unlimited, RateLimits::State::limited}) {
    if (name == state_name(state)) {
      return state;
    }
  }
  return std::nullopt;
}

}  // namespace

std::string probe_key(const model::Settings& settings, const std::string& access_token) {
  const char* mode = settings.provisioning == model::ProvisioningMode::appservice ? "appservice" : "synapse-admin";
  // The digest is over the token alone; the rest is readable, for whoever
  // looks into the store.
  return settings.homeserver_url + " " + mode + " " + settings.bot_user_id + " sha256:" + sha256_hex(access_token);
}

std::string capabilities_json(const Capabilities& caps) {
  nlohmann::json limits = {{"state", state_name(caps.rate_limits.state)},
                           {"description", caps.rate_limits.description},
                           {"remedy", caps.rate_limits.remedy}};
  if (caps.rate_limits.override_rate) {
    limits["override"] = {{"messages_per_second", caps.rate_limits.override_rate->messages_per_second},
                          {"burst_count", caps.rate_limits.override_rate->burst_count}};
  }
  return nlohmann::json{{"v", k_version},
                        {"user_id", caps.user_id},
                        {"synapse_version", caps.synapse_version},
                        {"server_admin", caps.server_admin},
                        {"versions", caps.versions},
                        {"rate_limits", limits}}
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
  auto limits = json.find("rate_limits");
  if (!user_id || user_id->empty() || !synapse_version || admin == json.end() || !admin->is_boolean() ||
      versions == json.end() || !versions->is_array() || limits == json.end() || !limits->is_object()) {
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
  auto state_text = string_at(*limits, "state");
  auto state = state_text ? state_named(*state_text) : std::nullopt;
  auto description = string_at(*limits, "description");
  auto remedy = string_at(*limits, "remedy");
  if (!state || !description || !remedy) {
    return std::nullopt;
  }
  caps.rate_limits.state = *state;
  caps.rate_limits.description = *description;
  caps.rate_limits.remedy = *remedy;
  if (auto rate = limits->find("override"); rate != limits->end()) {
    auto per_second = rate->is_object() ? rate->find("messages_per_second") : rate->end();
    auto burst = rate->is_object() ? rate->find("burst_count") : rate->end();
    if (!rate->is_object() || per_second == rate->end() || !per_second->is_number() || burst == rate->end() ||
        !burst->is_number()) {
      return std::nullopt;
    }
    caps.rate_limits.override_rate = RateOverride{per_second->get<double>(), burst->get<double>()};
  }
  return caps;
}

}  // namespace adapters
