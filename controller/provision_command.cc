// `mxctl provision LOCALPART`: an account and its private sync room for
// one person's devices, handed over as a provisioning bundle (one string
// the first device imports, logs in with, and rotates the password of; in
// appservice mode it carries a device's access token instead). The
// credential goes to the bundle only: never to the state store, the audit
// log or any other output.

#include "adapters/homeserver/http_homeserver.h"
#include "adapters/homeserver/provisioning_bundle.h"
#include "adapters/homeserver/sync_account.h"
#include "adapters/manifests/settings_file.h"
#include "controller/commands.h"
#include "controller/pass_output.h"
#include "controller/private_file.h"
#include "model/matrix_ids.h"
#include "model/printable.h"

namespace controller {

int run_provision(const ProvisionOptions& options, Console& console) {
  if (auto invalid = model::check_localpart(options.localpart)) {
    console.err << "Error: invalid localpart \"" << model::printable(options.localpart) << "\": " << *invalid
                << "\n";
    return k_exit_error;
  }
  adapters::Environment env = adapters::process_environment();
  adapters::LoadedSettings settings = adapters::load_settings(options.config_path, env);
  model::Diagnostics problems = settings.diagnostics;
  model::Diagnostics missing = adapters::require_connection_settings(settings);
  problems.insert(problems.end(), missing.begin(), missing.end());
  if (!problems.empty()) {
    print_diagnostics(problems, console.err);
    return k_exit_error;
  }
  auto token = adapters::load_access_token(settings, env);
  if (!token) {
    print_error(token.error(), console.err);
    return k_exit_error;
  }
  adapters::SyncAccountRequest request;
  request.localpart = options.localpart;
  request.display_name = options.display_name;
  request.marker_type = options.marker_type;
  request.rotate_password = options.rotate_password;
  // An appservice cannot give its accounts a password: the bundle carries
  // an access token of a device minted for the account instead.
  const bool appservice = settings.settings.provisioning == model::ProvisioningMode::appservice;
  const auto client = adapters::client_options(settings.settings, std::chrono::steady_clock::now());
  auto provisioned = appservice ? adapters::provision_appservice_sync_account(settings.settings, *token, client, request)
                                : adapters::provision_sync_account(settings.settings, *token, client, request);
  if (!provisioned) {
    print_error(provisioned.error(), console.err);
    return k_exit_error;
  }
  const std::string bundle =
      adapters::encode_bundle({settings.settings.homeserver_url, provisioned->user_id, provisioned->password,
                               provisioned->room_id, provisioned->access_token, provisioned->device_id});
  console.err << (provisioned->account_created ? "Created "
                  : appservice                 ? "Logged out the devices of and gave a new access token to "
                                               : "Gave a new password to ")
              << model::printable(provisioned->user_id) << "; "
              << (provisioned->room_created ? "created its sync room " : "found its sync room ")
              << model::printable(provisioned->room_id) << ".\n";
  if (options.out.empty()) {
    console.out << bundle << "\n";
    return k_exit_ok;
  }
  if (std::string problem = write_private(options.out, bundle + "\n"); !problem.empty()) {
    console.err << "Error: " << model::printable(problem)
                << " (the account's new " << (appservice ? "access token" : "password")
                << " is lost with it: run again with --rotate-password)\n";
    return k_exit_error;
  }
  console.err << "Wrote the provisioning bundle to " << model::printable(options.out) << " (mode 600).\n";
  return k_exit_ok;
}

}  // namespace controller
