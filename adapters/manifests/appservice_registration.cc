#include "adapters/manifests/appservice_registration.h"

#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

namespace adapters {

namespace {

std::string position(const std::string& origin, const YAML::Mark& mark) {
  if (mark.line < 0) {
    return origin;
  }
  return origin + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

}  // namespace

model::Result<AppserviceRegistration> parse_appservice_registration(const std::string& yaml_text,
                                                                    const std::string& origin) {
  using Kind = model::Error::Kind;
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::ParserException& e) {
    return model::fail(Kind::invalid, position(origin, e.mark) + ": appservice registration: invalid yaml: " + e.msg);
  }
  if (!root.IsMap()) {
    return model::fail(Kind::invalid, origin + ": appservice registration: expected a mapping");
  }
  AppserviceRegistration out;
  for (auto [key, slot] : {std::pair<const char*, std::string*>{"id", &out.id},
                           {"as_token", &out.as_token},
                           {"sender_localpart", &out.sender_localpart}}) {
    YAML::Node value = root[key];
    if (!value || value.IsNull() || !value.IsScalar() || value.Scalar().empty()) {
      return model::fail(Kind::invalid, origin + ": appservice registration: missing " + key);
    }
    *slot = value.Scalar();
  }
  if (YAML::Node hs_token = root["hs_token"]; hs_token && hs_token.IsScalar()) {
    out.hs_token = hs_token.Scalar();
  }
  if (YAML::Node limited = root["rate_limited"]; limited && !limited.IsNull()) {
    if (!limited.IsScalar() || !YAML::convert<bool>::decode(limited, out.rate_limited)) {
      return model::fail(Kind::invalid, position(origin, limited.Mark()) +
                                            ": appservice registration: rate_limited must be true or false");
    }
  }
  return out;
}

model::Result<AppserviceRegistration> load_appservice_registration(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return model::fail(model::Error::Kind::invalid, "cannot read appservice registration " + path);
  }
  std::stringstream text;
  text << in.rdbuf();
  return parse_appservice_registration(text.str(), path);
}

}  // namespace adapters
