#pragma once
// Writing the application service registration a homeserver loads for
// mxctl (`mxctl appservice registration`): its tokens, its sender, and the
// exclusive namespaces of what mxctl manages (each managed account of this
// server, and every alias under the alias prefix).

#include <string>
#include <vector>

namespace adapters {

/// What a registration says.
struct RegistrationSpec {
  std::string id = "mxctl";
  /// Where the homeserver reaches the appservice; empty: `url: null` (the
  /// homeserver pushes nothing).
  std::string url;
  std::string as_token;
  std::string hs_token;
  std::string sender_localpart;
  std::string server_name;
  /// Full user ids of the managed accounts (those of other servers are left out).
  std::vector<std::string> user_ids;
  /// aliasPrefix ("mxctl."): every alias `#<prefix>…:<server>` is claimed.
  std::string alias_prefix;
};

/// `text` as a regular expression that matches it literally: the
/// metacharacters Python's `re` (Synapse's) and ECMAScript share,
/// `.^$*+?()[]{}|\`, escaped.
std::string regex_literal(const std::string& text);

/// The registration as YAML: id, url, as_token, hs_token, sender_localpart,
/// rate_limited: false, and namespaces (users and aliases exclusive, one
/// user regex per managed account in id order, each anchored at the end as
/// the homeserver anchors it at the start; no rooms).
std::string registration_yaml(const RegistrationSpec& spec);

}  // namespace adapters
