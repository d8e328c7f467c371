#include "mxsim/appservice.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace mxsim {

namespace {

bool matches(const std::vector<Namespace>& namespaces, const std::string& text, bool exclusive_only) {
  for (const Namespace& entry : namespaces) {
    if (exclusive_only && !entry.exclusive) {
      continue;
    }
    // Synapse uses re.match: anchored at the start, not the end.
    if (std::regex_search(text, entry.compiled, std::regex_constants::match_continuous)) {
      return true;
    }
  }
  return false;
}

std::vector<Namespace> read_namespaces(const YAML::Node& node, const std::string& origin, const std::string& kind) {
  std::vector<Namespace> out;
  if (!node || node.IsNull()) {
    return out;
  }
  if (!node.IsSequence()) {
    throw std::runtime_error(origin + ": namespaces." + kind + " must be a list");
  }
  for (const auto& item : node) {
    Namespace entry;
    if (!item["regex"]) {
      throw std::runtime_error(origin + ": namespaces." + kind + " entry without regex");
    }
    entry.regex = item["regex"].as<std::string>();
    entry.exclusive = item["exclusive"] ? item["exclusive"].as<bool>() : false;
    try {
      entry.compiled = std::regex(entry.regex, std::regex::ECMAScript);
    } catch (const std::regex_error& error) {
      throw std::runtime_error(origin + ": bad regex '" + entry.regex + "': " + error.what());
    }
    out.push_back(std::move(entry));
  }
  return out;
}

nlohmann::json namespaces_json(const std::vector<Namespace>& namespaces) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& entry : namespaces) {
    out.push_back({{"regex", entry.regex}, {"exclusive", entry.exclusive}});
  }
  return out;
}

}  // namespace

std::string AppService::sender(const std::string& server_name) const {
  return "@" + sender_localpart + ":" + server_name;
}

bool AppService::interested_in_user(const std::string& user_id, const std::string& server_name) const {
  return user_id == sender(server_name) || matches(users, user_id, false);
}

bool AppService::exclusive_user(const std::string& user_id) const { return matches(users, user_id, true); }

bool AppService::interested_in_alias(const std::string& alias) const { return matches(aliases, alias, false); }

bool AppService::exclusive_alias(const std::string& alias) const { return matches(aliases, alias, true); }

bool AppService::interested_in_room(const std::string& room_id) const { return matches(rooms, room_id, false); }

nlohmann::json AppService::to_json() const {
  return {{"id", id},
          {"url", url},
          {"as_token", as_token},
          {"hs_token", hs_token},
          {"sender_localpart", sender_localpart},
          {"rate_limited", rate_limited},
          {"namespaces",
           {{"users", namespaces_json(users)},
            {"aliases", namespaces_json(aliases)},
            {"rooms", namespaces_json(rooms)}}}};
}

AppService parse_registration(const std::string& yaml_text, const std::string& origin) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& error) {
    throw std::runtime_error(origin + ": " + error.what());
  }
  if (!root.IsMap()) {
    throw std::runtime_error(origin + ": registration must be a mapping");
  }
  AppService service;
  try {
    for (const char* key : {"id", "as_token", "hs_token", "sender_localpart"}) {
      if (!root[key] || root[key].IsNull()) {
        throw std::runtime_error(origin + ": missing required key '" + key + "'");
      }
    }
    service.id = root["id"].as<std::string>();
    service.as_token = root["as_token"].as<std::string>();
    service.hs_token = root["hs_token"].as<std::string>();
    service.sender_localpart = root["sender_localpart"].as<std::string>();
    if (root["url"] && !root["url"].IsNull()) {
      service.url = root["url"].as<std::string>();
    }
    if (root["rate_limited"]) {
      service.rate_limited = root["rate_limited"].as<bool>();
    }
    YAML::Node namespaces = root["namespaces"];
    if (namespaces && namespaces.IsMap()) {
      service.users = read_namespaces(namespaces["users"], origin, "users");
      service.aliases = read_namespaces(namespaces["aliases"], origin, "aliases");
      service.rooms = read_namespaces(namespaces["rooms"], origin, "rooms");
    }
  } catch (const YAML::Exception& error) {
    throw std::runtime_error(origin + ": " + error.what());
  }
  return service;
}

AppService load_registration_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    throw std::runtime_error(path + ": cannot read appservice registration");
  }
  std::stringstream text;
  text << in.rdbuf();
  return parse_registration(text.str(), path);
}

}  // namespace mxsim
