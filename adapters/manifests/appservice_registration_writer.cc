#include "adapters/manifests/appservice_registration_writer.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <string_view>

namespace adapters {

std::string regex_literal(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (std::string_view(".^$*+?()[]{}|\\").find(c) != std::string_view::npos) {
      out += '\\';
    }
    out += c;
  }
  return out;
}

std::string registration_yaml(const RegistrationSpec& spec) {
  const std::string suffix = ":" + spec.server_name;
  std::vector<std::string> users;
  for (const std::string& user_id : spec.user_ids) {
    if (user_id.size() > suffix.size() + 1 && user_id.ends_with(suffix)) {
      users.push_back(user_id);
    }
  }
  std::sort(users.begin(), users.end());
  users.erase(std::unique(users.begin(), users.end()), users.end());

  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "id" << YAML::Value << spec.id;
  out << YAML::Key << "url" << YAML::Value;
  if (spec.url.empty()) {
    out << YAML::Null;
  } else {
    out << spec.url;
  }
  out << YAML::Key << "as_token" << YAML::Value << YAML::DoubleQuoted << spec.as_token;
  out << YAML::Key << "hs_token" << YAML::Value << YAML::DoubleQuoted << spec.hs_token;
  out << YAML::Key << "sender_localpart" << YAML::Value << spec.sender_localpart;
  out << YAML::Key << "rate_limited" << YAML::Value << false;
  out << YAML::Key << "namespaces" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "users" << YAML::Value << YAML::BeginSeq;
  for (const std::string& user_id : users) {
    out << YAML::BeginMap << YAML::Key << "exclusive" << YAML::Value << true << YAML::Key << "regex" << YAML::Value
        << YAML::DoubleQuoted << regex_literal(user_id) + "$" << YAML::EndMap;
  }
  out << YAML::EndSeq;
  out << YAML::Key << "aliases" << YAML::Value << YAML::BeginSeq;
  out << YAML::BeginMap << YAML::Key << "exclusive" << YAML::Value << true << YAML::Key << "regex" << YAML::Value
      << YAML::DoubleQuoted << "#" + regex_literal(spec.alias_prefix) + ".*" + regex_literal(suffix) + "$"
      << YAML::EndMap;
  out << YAML::EndSeq;
  out << YAML::Key << "rooms" << YAML::Value << YAML::Flow << YAML::BeginSeq << YAML::EndSeq;
  out << YAML::EndMap;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace adapters
