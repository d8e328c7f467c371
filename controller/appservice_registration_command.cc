// `mxctl appservice registration PATH...`: the registration file an
// operator loads into the homeserver (Synapse's app_service_config_files)
// so that mxctl can provision as an application service. Tokens are made
// here and go to the file only (mode 600); a file that exists keeps its
// tokens, so it can be written again when accounts are added.

#include <filesystem>

#include "adapters/appdb/desired_source.h"
#include "adapters/homeserver/provisioning_bundle.h"
#include "adapters/manifests/appservice_registration.h"
#include "adapters/manifests/appservice_registration_writer.h"
#include "adapters/manifests/settings_file.h"
#include "controller/commands.h"
#include "controller/pass_output.h"
#include "controller/private_file.h"
#include "model/compile.h"
#include "model/printable.h"

namespace controller {

int run_appservice_registration(const AppserviceRegistrationOptions& options, Console& console) {
  adapters::LoadedSettings settings = adapters::load_settings(options.config_path, adapters::process_environment());
  const model::Settings& s = settings.settings;
  model::Diagnostics problems = settings.diagnostics;
  const std::string suffix = ":" + s.server_name;
  if (s.server_name.empty()) {
    problems.push_back({{"settings"}, "no server name: set MATRIX_SERVER_NAME or serverName in the config"});
  } else if (s.bot_user_id.size() <= suffix.size() + 1 || s.bot_user_id[0] != '@' ||
             !s.bot_user_id.ends_with(suffix)) {
    problems.push_back({{"settings"}, "the appservice's sender is the bot: set MATRIX_BOT_USER_ID or botUserId to "
                                      "a user of " + s.server_name});
  }
  adapters::LoadedDesired loaded = adapters::load_desired(options.paths, options.from_db, settings.app_database, s);
  problems.insert(problems.end(), loaded.diagnostics.begin(), loaded.diagnostics.end());
  if (!problems.empty()) {
    print_diagnostics(problems, console.err);
    return k_exit_error;
  }
  adapters::RegistrationSpec spec;
  spec.id = options.id;
  spec.url = options.url;
  spec.server_name = s.server_name;
  spec.alias_prefix = s.alias_prefix;
  spec.sender_localpart = s.bot_user_id.substr(1, s.bot_user_id.size() - 1 - suffix.size());
  for (const auto& [key, account] : model::compile(loaded.topology, s).accounts) {
    spec.user_ids.push_back(account.user_id);
  }
  // Written again (accounts added): the homeserver and mxctl keep the tokens they have.
  std::error_code error;
  const bool existing = std::filesystem::exists(options.out, error);
  if (existing) {
    auto old = adapters::load_appservice_registration(options.out);
    if (!old || old->hs_token.empty()) {
      console.err << "Error: " << model::printable(old ? options.out + ": no hs_token" : old.error().message)
                  << "; not overwriting it (move it away to make a new registration with new tokens)\n";
      return k_exit_error;
    }
    spec.as_token = old->as_token;
    spec.hs_token = old->hs_token;
  } else {
    auto as_token = adapters::random_secret();
    auto hs_token = adapters::random_secret();
    if (!as_token || !hs_token) {
      print_error(!as_token ? as_token.error() : hs_token.error(), console.err);
      return k_exit_error;
    }
    spec.as_token = *as_token;
    spec.hs_token = *hs_token;
  }
  if (std::string problem = write_private(options.out, adapters::registration_yaml(spec)); !problem.empty()) {
    console.err << "Error: " << model::printable(problem) << "\n";
    return k_exit_error;
  }
  console.err << (existing ? "Rewrote " : "Wrote ") << model::printable(options.out) << " (mode 600"
              << (existing ? ", its tokens kept" : ", new tokens") << "): sender @"
              << model::printable(spec.sender_localpart) << suffix << ", " << spec.user_ids.size()
              << " managed accounts and the aliases #" << model::printable(s.alias_prefix) << "*" << suffix
              << " claimed exclusively.\n"
              << "Load it into the homeserver (Synapse: app_service_config_files) and restart it; then set "
                 "provisioning: appservice and appserviceRegistration: "
              << model::printable(options.out) << " in mxctl's config.\n";
  return k_exit_ok;
}

}  // namespace controller
