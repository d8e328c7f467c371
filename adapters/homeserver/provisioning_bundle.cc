#include "adapters/homeserver/provisioning_bundle.h"

#include <openssl/evp.h>
#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <nlohmann/json.hpp>

namespace adapters {

namespace {

std::string base64url(const unsigned char* data, std::size_t size) {
  std::string out(4 * ((size + 2) / 3) + 1, '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(static_cast<std::size_t>(written));
  while (!out.empty() && out.back() == '=') {
    out.pop_back();
  }
  for (char& c : out) {
    c = c == '+' ? '-' : c == '/' ? '_' : c;
  }
  return out;
}

std::optional<std::string> from_base64url(std::string text) {
  for (char& c : text) {
    if (c == '-' || c == '_') {
      c = c == '-' ? '+' : '/';
    } else if (c == '+' || c == '/' || c == '=') {
      return std::nullopt;  // the standard alphabet, or padding: not what a bundle is
    }
  }
  const std::size_t padding = (4 - text.size() % 4) % 4;
  if (padding == 3) {
    return std::nullopt;
  }
  text.append(padding, '=');
  std::string out(3 * (text.size() / 4), '\0');
  const int written = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                      reinterpret_cast<const unsigned char*>(text.data()),
                                      static_cast<int>(text.size()));
  if (written < 0) {
    return std::nullopt;
  }
  // EVP_DecodeBlock counts the padding's bytes as zeros.
  out.resize(static_cast<std::size_t>(written) - padding);
  return out;
}

}  // namespace

std::string encode_bundle(const ProvisioningBundle& bundle) {
  nlohmann::ordered_json json = {{"v", bundle.access_token.empty() ? 1 : 2},
                                 {"homeServer", bundle.homeserver},
                                 {"user", bundle.user}};
  if (bundle.access_token.empty()) {
    json["password"] = bundle.password;
  } else {
    json["accessToken"] = bundle.access_token;
    json["deviceId"] = bundle.device_id;
  }
  json["roomId"] = bundle.room_id;
  const std::string text = json.dump();
  return base64url(reinterpret_cast<const unsigned char*>(text.data()), text.size());
}

model::Result<ProvisioningBundle> decode_bundle(const std::string& text) {
  auto decoded = from_base64url(text);
  if (!decoded) {
    return model::fail(model::Error::Kind::invalid, "the bundle is not URL-safe base64 without padding");
  }
  const nlohmann::json json = nlohmann::json::parse(*decoded, nullptr, false);
  if (!json.is_object()) {
    return model::fail(model::Error::Kind::invalid, "the bundle does not hold a JSON object");
  }
  auto version = json.find("v");
  if (version == json.end() || (*version != 1 && *version != 2)) {
    return model::fail(model::Error::Kind::invalid, "the bundle's \"v\" is neither 1 nor 2");
  }
  ProvisioningBundle bundle;
  std::vector<std::pair<const char*, std::string*>> fields = {
      {"homeServer", &bundle.homeserver}, {"user", &bundle.user}, {"roomId", &bundle.room_id}};
  if (*version == 1) {
    fields.emplace_back("password", &bundle.password);
  } else {
    fields.emplace_back("accessToken", &bundle.access_token);
    fields.emplace_back("deviceId", &bundle.device_id);
  }
  for (const auto& [name, field] : fields) {
    auto it = json.find(name);
    if (it == json.end() || !it->is_string()) {
      return model::fail(model::Error::Kind::invalid, std::string("the bundle's \"") + name + "\" is missing or not a string");
    }
    *field = it->get<std::string>();
  }
  return bundle;
}

model::Result<std::string> random_secret(std::size_t bytes) {
  std::vector<unsigned char> buffer(bytes);
  std::size_t filled = 0;
  while (filled < bytes) {
    const ssize_t got = getrandom(buffer.data() + filled, bytes - filled, 0);
    if (got < 0) {
      if (errno == EINTR) {
        continue;
      }
      return model::fail(model::Error::Kind::transient,
                         std::string("cannot read random bytes (getrandom): ") + std::strerror(errno));
    }
    filled += static_cast<std::size_t>(got);
  }
  return base64url(buffer.data(), buffer.size());
}

}  // namespace adapters
