#pragma once
// Controller settings from a config file and the environment (FT-17's
// MATRIX_* variables). The environment wins over the file, so one config file
// can serve several deployments. The access token is kept apart from the
// settings so it cannot end up in anything that is printed.

#include <functional>
#include <optional>
#include <string>

#include "adapters/app_database_settings.h"
#include "model/diagnostic.h"
#include "model/result.h"
#include "model/settings.h"

namespace adapters {

/// Looks up an environment variable; nothing when unset. Tests pass a map.
using Environment = std::function<std::optional<std::string>(const std::string& name)>;

/// The real process environment (std::getenv).
Environment process_environment();

/// Settings and every problem found reading them.
struct LoadedSettings {
  model::Settings settings;
  /// Where the bot's access token is read from when MATRIX_BOT_ACCESS_TOKEN is unset.
  std::optional<std::string> access_token_file;
  /// The appservice registration file (appserviceRegistration); its as_token
  /// is the access token and its sender the bot.
  std::optional<std::string> appservice_registration_file;
  /// `appserviceListen` (ADDR:PORT): where `mxctl run` serves the
  /// application-service API to the homeserver (appservice provisioning);
  /// empty: not served.
  std::string appservice_listen;
  /// The `appDatabase` section: the operator's own SQL per object kind.
  AppDatabaseSettings app_database;
  /// Empty when the settings are usable.
  model::Diagnostics diagnostics;
};

/// Reads `config_path` (YAML mapping with camelCase keys: homeserverUrl,
/// serverName, botUserId, accessTokenFile, aliasPrefix, markerEventType,
/// instance, gracePeriodDays, massChangeMaxPercent, massChangeMaxCount,
/// deactivatedAccounts,
/// provisioning, roomVersion,
/// appserviceRegistration, appserviceListen, appDatabase) when it is not empty, then applies
/// MATRIX_HOMESERVER_URL, MATRIX_SERVER_NAME, MATRIX_BOT_USER_ID and
/// MATRIX_BOT_ACCESS_TOKEN_FILE from `env`. The bot defaults to
/// "@mxctl:<serverName>". A token written in the config file is refused.
///
/// With appserviceRegistration, the registration is read here: provisioning
/// must be appservice, the bot defaults to "@<sender_localpart>:<serverName>"
/// (a different botUserId/MATRIX_BOT_USER_ID is a problem, since the
/// homeserver will say the token is the sender's), and
/// settings.appservice_rate_limited takes the registration's rate_limited.
///
/// `appDatabase` is a mapping with one key, `queries`: a mapping from object
/// kind (k_app_query_kinds) to a SQL string; an unknown kind is a problem.
LoadedSettings load_settings(const std::string& config_path, const Environment& env);

/// The settings the homeserver commands cannot do without (URL, server name,
/// bot), each missing one named with the variable that sets it.
model::Diagnostics require_connection_settings(const LoadedSettings& loaded);

/// The bot's access token: MATRIX_BOT_ACCESS_TOKEN, else the appservice
/// registration's as_token, else the token file (surrounding whitespace
/// trimmed). `not_found` when none is configured, `invalid` when the file
/// cannot be read or is empty.
model::Result<std::string> load_access_token(const LoadedSettings& loaded, const Environment& env);

}  // namespace adapters
