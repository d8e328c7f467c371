#pragma once
// Application service registrations: the YAML file format Synapse reads
// (id, url, as_token, hs_token, sender_localpart, namespaces, rate_limited)
// and the namespace questions the homeserver asks about them.

#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <string>
#include <vector>

namespace mxsim {

/// One namespace entry: a regex over full ids, exclusive or shared.
struct Namespace {
  std::string regex;
  bool exclusive = false;
  std::regex compiled;
};

/// A registered application service.
struct AppService {
  std::string id;
  std::string url;  ///< "" when the registration has `url: null` (no pushes)
  std::string as_token;
  std::string hs_token;
  std::string sender_localpart;
  std::vector<Namespace> users;
  std::vector<Namespace> aliases;
  std::vector<Namespace> rooms;
  bool rate_limited = true;

  /// "@sender_localpart:server".
  std::string sender(const std::string& server_name) const;
  /// True when `user_id` is the sender or matches a user namespace.
  bool interested_in_user(const std::string& user_id, const std::string& server_name) const;
  /// True when `user_id` matches an exclusive user namespace.
  bool exclusive_user(const std::string& user_id) const;
  /// True when `alias` matches an alias namespace.
  bool interested_in_alias(const std::string& alias) const;
  /// True when `alias` matches an exclusive alias namespace.
  bool exclusive_alias(const std::string& alias) const;
  /// True when `room_id` matches a room namespace.
  bool interested_in_room(const std::string& room_id) const;
  /// The registration as JSON (for the state file and the control endpoint).
  nlohmann::json to_json() const;
};

/// Reads a registration YAML file. Throws std::runtime_error naming the file
/// and the problem when it cannot be read, a required key is missing or a
/// regex does not compile.
AppService load_registration_file(const std::string& path);
/// Parses registration YAML text (as load_registration_file, without the file).
AppService parse_registration(const std::string& yaml_text, const std::string& origin = "<string>");

}  // namespace mxsim
