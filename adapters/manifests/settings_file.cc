#include "adapters/manifests/settings_file.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "adapters/manifests/appservice_registration.h"
#include "adapters/redact.h"
#include "model/limits.h"
#include "model/suggest.h"

namespace adapters {

namespace {

const std::vector<std::string> k_keys = {
    "homeserverUrl", "serverName", "botUserId", "accessTokenFile", "aliasPrefix",
    "markerEventType", "instance", "gracePeriodDays", "provisioning", "roomVersion", "appserviceRegistration",
    "reinviteToCommunityRooms", "reinviteToCouncilRooms", "forceJoin", "massChangeMaxPercent", "massChangeMaxCount",
    "deactivatedAccounts", "readTimeoutSeconds", "requestTimeoutSeconds", "syncTimeoutSeconds",
    "maxAnswerMegabytes", "maxSyncAnswerMegabytes", "passTimeoutMinutes", "caFile",
    "appDatabase", "resyncIntervalMinutes", "sourceIntervalSeconds", "shutdownGraceSeconds", "listen",
    "appserviceListen",
};

// The whole-number settings bounding the homeserver's answers: key, target,
// smallest and largest value accepted.
struct Bound {
  const char* key;
  int model::Settings::*field;
  int min;
  int max;
  const char* unit;
};

const Bound k_bounds[] = {
    {"readTimeoutSeconds", &model::Settings::read_timeout_seconds, 1, 3600, "seconds"},
    {"requestTimeoutSeconds", &model::Settings::request_timeout_seconds, 1, 86400, "seconds"},
    {"syncTimeoutSeconds", &model::Settings::sync_timeout_seconds, 1, 86400, "seconds"},
    {"maxAnswerMegabytes", &model::Settings::max_answer_megabytes, 1, 4096, "MB"},
    {"maxSyncAnswerMegabytes", &model::Settings::max_sync_answer_megabytes, 1, 4096, "MB"},
    {"passTimeoutMinutes", &model::Settings::pass_timeout_minutes, 1, 10080, "minutes"},
    {"resyncIntervalMinutes", &model::Settings::resync_interval_minutes, 1, 10080, "minutes"},
    {"sourceIntervalSeconds", &model::Settings::source_interval_seconds, 1, 86400, "seconds"},
    {"shutdownGraceSeconds", &model::Settings::shutdown_grace_seconds, 1, 3600, "seconds"},
};

// A YAML 1.2 boolean (true/false only), or a diagnostic naming the key.
void read_bool(const std::string& key, const std::string& text, const model::SourceLocation& where, bool& out,
               LoadedSettings& loaded) {
  if (text == "true" || text == "false") {
    out = text == "true";
  } else {
    loaded.diagnostics.push_back({where, "config: " + key + " must be true or false, got \"" + text + "\""});
  }
}

model::SourceLocation location(const std::string& file, const YAML::Mark& mark) {
  return {file, mark.line + 1, mark.column + 1};
}

// Keys already read in one mapping, with where each was first written.
using SeenKeys = std::map<std::string, YAML::Mark>;

// False (reported) when `key` was already set in the same mapping. yaml-cpp
// keeps every entry, so the last would silently win; in a config file that
// is how a copy-pasted line changes what a cron job does.
bool first_time(const std::string& file, const std::string& shown, const YAML::Node& key, SeenKeys& seen,
                LoadedSettings& out) {
  auto [it, inserted] = seen.emplace(key.Scalar(), key.Mark());
  if (!inserted) {
    out.diagnostics.push_back({location(file, key.Mark()), "config: duplicate setting \"" + shown +
                                                               "\" (first set at " +
                                                               std::to_string(it->second.line + 1) + ":" +
                                                               std::to_string(it->second.column + 1) + ")"});
  }
  return inserted;
}

std::string trim(const std::string& text) {
  const char* space = " \t\r\n";
  auto first = text.find_first_not_of(space);
  if (first == std::string::npos) {
    return "";
  }
  return text.substr(first, text.find_last_not_of(space) - first + 1);
}

// "https://user:pw@host/...": an '@' before the path.
bool has_user_info(const std::string& url) {
  const std::size_t scheme = url.find("://");
  const std::size_t start = scheme == std::string::npos ? 0 : scheme + 3;
  const std::size_t end = std::min(url.find_first_of("/?#", start), url.size());
  const std::size_t at = url.find('@', start);
  return at != std::string::npos && at < end;
}

// Reads one key of the config mapping into `settings`; problems go to `out`.
void read_key(const std::string& file, const std::string& key, const YAML::Node& value, LoadedSettings& out) {
  auto where = location(file, value.Mark());
  if (!value.IsScalar()) {
    out.diagnostics.push_back({where, "config: " + key + " must be a scalar"});
    return;
  }
  const std::string text = value.Scalar();
  model::Settings& s = out.settings;
  if (key == "homeserverUrl") {
    s.homeserver_url = text;
  } else if (key == "serverName") {
    s.server_name = text;
  } else if (key == "botUserId") {
    s.bot_user_id = text;
  } else if (key == "accessTokenFile") {
    out.access_token_file = text;
  } else if (key == "appserviceRegistration") {
    out.appservice_registration_file = text;
  } else if (key == "aliasPrefix") {
    s.alias_prefix = text;
  } else if (key == "markerEventType") {
    s.marker_event_type = text;
  } else if (key == "instance") {
    s.instance = text;
  } else if (key == "roomVersion") {
    s.room_version = text;
  } else if (key == "reinviteToCommunityRooms") {
    read_bool(key, text, where, s.reinvite_to_community_rooms, out);
  } else if (key == "reinviteToCouncilRooms") {
    read_bool(key, text, where, s.reinvite_to_council_rooms, out);
  } else if (key == "forceJoin") {
    read_bool(key, text, where, s.force_join, out);
  } else if (key == "gracePeriodDays") {
    int days = 0;
    if (!YAML::convert<int>::decode(value, days) || days < 1) {
      out.diagnostics.push_back({where, "config: gracePeriodDays must be a whole number of days, at least 1"});
    } else {
      s.grace_period_days = days;
    }
  } else if (key == "deactivatedAccounts") {
    if (text == "suspend" || text == "deactivate") {
      s.deactivate_accounts = text == "deactivate";
    } else {
      out.diagnostics.push_back({where, "config: deactivatedAccounts must be \"suspend\" or \"deactivate\", not \"" +
                                            text + "\"" + model::did_you_mean(text, {"suspend", "deactivate"})});
    }
  } else if (key == "massChangeMaxPercent") {
    int percent = -1;
    if (!YAML::convert<int>::decode(value, percent) || percent < 0 || percent > 100) {
      out.diagnostics.push_back({where, "config: massChangeMaxPercent must be a whole number from 0 to 100"});
    } else {
      s.mass_change_max_percent = percent;
    }
  } else if (key == "massChangeMaxCount") {
    int count = -1;
    if (!YAML::convert<int>::decode(value, count) || count < 0) {
      out.diagnostics.push_back({where, "config: massChangeMaxCount must be a whole number, at least 0"});
    } else {
      s.mass_change_max_count = count;
    }
  } else if (key == "caFile") {
    s.ca_file = text;
  } else if (key == "listen") {
    s.listen = text;
  } else if (key == "appserviceListen") {
    out.appservice_listen = text;
  } else if (auto bound = std::find_if(std::begin(k_bounds), std::end(k_bounds),
                                       [&](const Bound& b) { return key == b.key; });
             bound != std::end(k_bounds)) {
    int number = 0;
    if (!YAML::convert<int>::decode(value, number) || number < bound->min || number > bound->max) {
      out.diagnostics.push_back({where, "config: " + key + " must be a whole number of " + bound->unit + " from " +
                                            std::to_string(bound->min) + " to " + std::to_string(bound->max)});
    } else {
      s.*(bound->field) = number;
    }
  } else if (key == "provisioning") {
    if (text == "synapse-admin") {
      s.provisioning = model::ProvisioningMode::synapse_admin;
    } else if (text == "appservice") {
      s.provisioning = model::ProvisioningMode::appservice;
    } else {
      out.diagnostics.push_back({where, "config: provisioning must be \"synapse-admin\" or \"appservice\", not \"" +
                                            text + "\"" + model::did_you_mean(text, {"synapse-admin", "appservice"})});
    }
  }
}

// appDatabase: {queries: {users: "SELECT ...", ...}, notifyChannel: name}; see README.md.
void read_app_database(const std::string& file, const YAML::Node& value, LoadedSettings& out) {
  if (!value.IsMap()) {
    out.diagnostics.push_back({location(file, value.Mark()), "config: appDatabase must be a mapping"});
    return;
  }
  SeenKeys seen;
  for (const auto& entry : value) {
    const std::string key = entry.first.Scalar();
    if (!first_time(file, "appDatabase." + key, entry.first, seen, out)) {
      continue;
    }
    if (key == "notifyChannel") {
      const std::string channel = entry.second.IsScalar() ? entry.second.Scalar() : "";
      if (!valid_notify_channel(channel)) {
        out.diagnostics.push_back({location(file, entry.second.Mark()),
                                   "config: appDatabase.notifyChannel must be a lower-case SQL identifier (a-z, 0-9, "
                                   "_; not starting with a digit; at most 63 bytes)"});
      } else {
        out.app_database.notify_channel = channel;
      }
      continue;
    }
    if (key != "queries") {
      out.diagnostics.push_back({location(file, entry.first.Mark()),
                                 "config: unknown setting \"appDatabase." + key + "\"" +
                                     model::did_you_mean(key, {"queries", "notifyChannel"})});
      continue;
    }
    if (!entry.second.IsMap()) {
      out.diagnostics.push_back(
          {location(file, entry.second.Mark()), "config: appDatabase.queries must map object kinds to SQL"});
      continue;
    }
    SeenKeys kinds;
    for (const auto& query : entry.second) {
      const std::string kind = query.first.Scalar();
      auto where = location(file, query.first.Mark());
      if (!first_time(file, "appDatabase.queries." + kind, query.first, kinds, out)) {
        continue;
      }
      if (std::find(k_app_query_kinds.begin(), k_app_query_kinds.end(), kind) == k_app_query_kinds.end()) {
        out.diagnostics.push_back({where, "config: unknown query kind \"" + kind + "\"" +
                                              model::did_you_mean(kind, k_app_query_kinds)});
      } else if (!query.second.IsScalar() || query.second.Scalar().empty()) {
        out.diagnostics.push_back({where, "config: appDatabase.queries." + kind + " must be a SQL string"});
      } else {
        out.app_database.queries[kind] = query.second.Scalar();
      }
    }
  }
}

void read_config_file(const std::string& path, LoadedSettings& out) {
  YAML::Node root;
  try {
    std::ifstream in(path);
    if (!in) {
      out.diagnostics.push_back({{path}, "cannot read config file"});
      return;
    }
    root = YAML::Load(in);
  } catch (const YAML::ParserException& e) {
    out.diagnostics.push_back({location(path, e.mark), "invalid yaml: " + e.msg});
    return;
  }
  if (root.IsNull()) {
    return;
  }
  if (!root.IsMap()) {
    out.diagnostics.push_back({location(path, root.Mark()), "config: expected a mapping of settings"});
    return;
  }
  SeenKeys seen;
  for (const auto& entry : root) {
    const std::string key = entry.first.Scalar();
    auto where = location(path, entry.first.Mark());
    if (!first_time(path, key, entry.first, seen, out)) {
      continue;
    }
    if (key == "accessToken" || key == "botAccessToken") {
      out.diagnostics.push_back({where, "config: access tokens are never read from the config file; set "
                                        "MATRIX_BOT_ACCESS_TOKEN or accessTokenFile"});
    } else if (std::find(k_keys.begin(), k_keys.end(), key) == k_keys.end()) {
      out.diagnostics.push_back({where, "config: unknown setting \"" + key + "\"" + model::did_you_mean(key, k_keys)});
    } else if (key == "appDatabase") {
      read_app_database(path, entry.second, out);
    } else {
      read_key(path, key, entry.second, out);
    }
  }
}

// The registration decides who the bot is and whether it is rate-limited;
// settings that contradict it would only fail later, at the homeserver.
void apply_registration(LoadedSettings& out) {
  if (!out.appservice_registration_file) {
    return;
  }
  const std::string& file = *out.appservice_registration_file;
  if (out.settings.provisioning != model::ProvisioningMode::appservice) {
    out.diagnostics.push_back({{"settings"}, "appserviceRegistration is set but provisioning is " +
                                                 std::string(model::to_string(out.settings.provisioning)) +
                                                 "; set provisioning: appservice"});
    return;
  }
  auto registration = load_appservice_registration(file);
  if (!registration) {
    // The message starts with the file (and position) already.
    out.diagnostics.push_back({{"settings"}, registration.error().message});
    return;
  }
  out.settings.appservice_rate_limited = registration->rate_limited;
  if (out.settings.server_name.empty()) {
    return;  // reported as a missing connection setting
  }
  std::string sender = "@" + registration->sender_localpart + ":" + out.settings.server_name;
  if (out.settings.bot_user_id.empty()) {
    out.settings.bot_user_id = sender;
  } else if (out.settings.bot_user_id != sender) {
    out.diagnostics.push_back({{"settings"}, "bot user id " + out.settings.bot_user_id +
                                                 " is not the appservice's sender " + sender +
                                                 " (sender_localpart in " + file + "); leave botUserId unset"});
  }
}

}  // namespace

Environment process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) {
      return std::nullopt;
    }
    return std::string(value);
  };
}

LoadedSettings load_settings(const std::string& config_path, const Environment& env) {
  LoadedSettings out;
  if (!config_path.empty()) {
    read_config_file(config_path, out);
  }
  if (auto url = env("MATRIX_HOMESERVER_URL")) {
    out.settings.homeserver_url = *url;
  }
  if (auto name = env("MATRIX_SERVER_NAME")) {
    out.settings.server_name = *name;
  }
  if (auto bot = env("MATRIX_BOT_USER_ID")) {
    out.settings.bot_user_id = *bot;
  }
  if (auto file = env("MATRIX_BOT_ACCESS_TOKEN_FILE")) {
    out.access_token_file = *file;
  }
  // Trailing slashes would double up when paths are appended.
  while (!out.settings.homeserver_url.empty() && out.settings.homeserver_url.back() == '/') {
    out.settings.homeserver_url.pop_back();
  }
  apply_registration(out);
  if (out.settings.bot_user_id.empty() && !out.settings.server_name.empty()) {
    out.settings.bot_user_id = "@mxctl:" + out.settings.server_name;
  }
  const std::string& url = out.settings.homeserver_url;
  if (!url.empty() && url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    out.diagnostics.push_back(
        {{"settings"}, "homeserver url must start with http:// or https://, got \"" + redact(url, {}) + "\""});
  }
  // The HTTP client takes no user name or password from a URL (the token is
  // the credential); the URL is only ever printed redacted.
  if (has_user_info(url)) {
    out.diagnostics.push_back({{"settings"}, "homeserver url " + redact(url, {}) +
                                                 " carries a user name or password, which mxctl does not send; "
                                                 "remove them (the access token is the credential)"});
  }
  if (!out.settings.ca_file.empty() && !std::ifstream(out.settings.ca_file)) {
    out.diagnostics.push_back({{"settings"}, "caFile " + out.settings.ca_file + " cannot be read"});
  }
  const std::string& bot = out.settings.bot_user_id;
  if (!bot.empty() && (bot.front() != '@' || bot.find(':') == std::string::npos)) {
    out.diagnostics.push_back({{"settings"}, "bot user id must be a full matrix id like \"@mxctl:example.org\", got \"" +
                                                 bot + "\""});
  }
  // Both go where the homeserver allows at most 255 bytes: the bot is a
  // member event's state key, the marker type (and the archive record's,
  // ".archive" added: room_events.h) an event type.
  if (bot.size() > model::k_max_identifier_bytes) {
    out.diagnostics.push_back({{"settings"}, "bot user id is " + std::to_string(bot.size()) +
                                                 " bytes long; the spec allows at most 255"});
  }
  const std::size_t marker_bytes = out.settings.marker_event_type.size() + std::string_view(".archive").size();
  if (marker_bytes > model::k_max_identifier_bytes) {
    out.diagnostics.push_back({{"settings"}, "markerEventType is too long: with \".archive\" added it is " +
                                                 std::to_string(marker_bytes) +
                                                 " bytes, and an event type may have at most 255"});
  }
  // The marker, {"instance": ..., "key": <room key>}, is in every room; a
  // room key is bounded by its alias (255 bytes), the instance only here.
  const std::size_t marker_content = model::json_string_bytes(out.settings.instance) +
                                     model::json_string_bytes("instance") + model::json_string_bytes("key") +
                                     model::k_max_identifier_bytes + 8;
  if (marker_content > model::k_max_content_bytes) {
    out.diagnostics.push_back({{"settings"}, "instance is too long for the ownership marker event (" +
                                                 std::to_string(marker_content) + " bytes of content, at most " +
                                                 std::to_string(model::k_max_content_bytes) + ")"});
  }
  if (out.settings.force_join && out.settings.provisioning != model::ProvisioningMode::synapse_admin) {
    out.diagnostics.push_back({{"settings"}, "forceJoin needs the Synapse admin API (provisioning: synapse-admin)"});
  }
  return out;
}

model::Diagnostics require_connection_settings(const LoadedSettings& loaded) {
  model::Diagnostics missing;
  if (loaded.settings.homeserver_url.empty()) {
    missing.push_back({{"settings"}, "no homeserver url: set MATRIX_HOMESERVER_URL or homeserverUrl in the config"});
  }
  if (loaded.settings.server_name.empty()) {
    missing.push_back({{"settings"}, "no server name: set MATRIX_SERVER_NAME or serverName in the config"});
  }
  return missing;
}

model::Result<std::string> load_access_token(const LoadedSettings& loaded, const Environment& env) {
  if (auto token = env("MATRIX_BOT_ACCESS_TOKEN"); token && !token->empty()) {
    return trim(*token);
  }
  if (loaded.appservice_registration_file) {
    auto registration = load_appservice_registration(*loaded.appservice_registration_file);
    if (!registration) {
      return tl::unexpected(registration.error());
    }
    return trim(registration->as_token);
  }
  if (!loaded.access_token_file) {
    return model::fail(model::Error::Kind::not_found,
                       "no access token: set MATRIX_BOT_ACCESS_TOKEN or MATRIX_BOT_ACCESS_TOKEN_FILE");
  }
  std::ifstream in(*loaded.access_token_file);
  if (!in) {
    return model::fail(model::Error::Kind::invalid, "cannot read access token file " + *loaded.access_token_file);
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string token = trim(buffer.str());
  if (token.empty()) {
    return model::fail(model::Error::Kind::invalid, "access token file " + *loaded.access_token_file + " is empty");
  }
  return token;
}

}  // namespace adapters
