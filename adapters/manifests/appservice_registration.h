#pragma once
// The application service registration file (the YAML a homeserver loads,
// e.g. Synapse's app_service_config_files): mxctl reads the few keys it needs
// so operators point both at the same file instead of copying the token.

#include <string>

#include "model/result.h"

namespace adapters {

/// What mxctl uses of a registration. The as_token is a secret: never put it
/// in a message or anything that is printed.
struct AppserviceRegistration {
  std::string id;
  /// The token the appservice sends to the homeserver (mxctl's access token).
  std::string as_token;
  /// Localpart of the appservice's own user: the bot is @sender_localpart:server.
  std::string sender_localpart;
  /// `rate_limited` (absent means true, as in the spec and Synapse).
  bool rate_limited = true;
  /// The token the homeserver sends to the appservice; empty when absent.
  /// A secret too.
  std::string hs_token;
};

/// Parses registration YAML. `invalid` naming `origin` and the key when the
/// text is not a mapping, id/as_token/sender_localpart is missing or empty,
/// or rate_limited is not a boolean. hs_token is read when it is a string;
/// other keys (url, namespaces) are the homeserver's business and are not
/// checked here.
model::Result<AppserviceRegistration> parse_appservice_registration(const std::string& yaml_text,
                                                                    const std::string& origin);

/// Reads and parses the registration file at `path`; `invalid` when it cannot
/// be read (naming the path) or does not parse.
model::Result<AppserviceRegistration> load_appservice_registration(const std::string& path);

}  // namespace adapters
