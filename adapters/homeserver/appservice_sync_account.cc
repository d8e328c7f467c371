// `provision_appservice_sync_account`: the sync account of seed 001 made by
// an appservice, for homeservers where mxctl has no admin API. Synapse
// gives an account an appservice registers no password, and changing one
// asks for the old one, so the bundle carries an access token instead.

#include "adapters/homeserver/account_provisioning.h"
#include "adapters/homeserver/answer_shape.h"
#include "adapters/homeserver/api_paths.h"
#include "adapters/homeserver/error_context.h"
#include "adapters/homeserver/sync_account.h"
#include "adapters/homeserver/sync_room.h"

namespace adapters {

namespace {

// Registers the account; false when it exists already (M_USER_IN_USE).
model::Result<bool> register_account(MatrixClient& appservice, const std::string& localpart,
                                     const std::string& user_id) {
  const nlohmann::json body = {
      {"type", "m.login.application_service"}, {"username", localpart}, {"inhibit_login", true}};
  auto registered = appservice.post(api::k_client + "/register", body);
  if (registered) {
    return true;
  }
  if (registered.error().error.errcode == "M_USER_IN_USE") {
    return false;
  }
  std::string hint;
  if (registered.error().error.errcode == "M_EXCLUSIVE") {
    hint = " (the account is outside the appservice's user namespace, or another appservice reserves it)";
  }
  return failed(registered.error(), "register " + user_id, hint);
}

// A new device for the account, logged in by the appservice: its token and
// device id, the token proven by asking the server whose it is.
model::Result<std::pair<std::string, std::string>> mint_device(MatrixClient& appservice,
                                                               const model::Settings& settings,
                                                               const ClientOptions& options,
                                                               const std::string& user_id) {
  const std::string path = api::k_client + "/login";
  auto login = appservice.post(path, {{"type", "m.login.application_service"},
                                      {"identifier", {{"type", "m.id.user"}, {"user", user_id}}},
                                      {"initial_device_display_name", "mxctl provision"}});
  if (!login) {
    return failed(login.error(), "log in a new device of " + user_id + " as the appservice");
  }
  Answer answer("POST", path, *login);
  auto token = answer.string(*login, "", "access_token");
  auto device = token ? answer.string(*login, "", "device_id") : tl::unexpected(token.error());
  if (!device || token->empty()) {
    return failed(device ? answer.malformed("access_token is empty") : device.error(),
                  "log in a new device of " + user_id + " as the appservice");
  }
  MatrixClient as_device(settings.homeserver_url, *token, options);
  const std::string whoami_path = api::k_client + "/account/whoami";
  auto whoami = as_device.get(whoami_path);
  if (!whoami) {
    return failed(whoami.error(), "check the new access token of " + user_id);
  }
  auto whose = Answer("GET", whoami_path, *whoami).string(*whoami, "", "user_id");
  if (!whose) {
    return failed(whose.error(), "check the new access token of " + user_id);
  }
  if (*whose != user_id) {
    return model::fail(model::Error::Kind::invalid,
                       "check the new access token of " + user_id + ": the server says it is " + *whose + "'s");
  }
  return std::pair{*token, *device};
}

}  // namespace

model::Result<SyncAccount> provision_appservice_sync_account(const model::Settings& settings,
                                                             const std::string& as_token, const ClientOptions& options,
                                                             const SyncAccountRequest& request) {
  SyncAccount out;
  out.user_id = "@" + request.localpart + ":" + settings.server_name;
  MatrixClient appservice(settings.homeserver_url, as_token, options);
  const std::string as_user = "?user_id=" + encode_path_segment(out.user_id);
  auto created = register_account(appservice, request.localpart, out.user_id);
  if (!created) {
    return tl::unexpected(created.error());
  }
  out.account_created = *created;
  if (!*created) {
    if (!request.rotate_password) {
      return model::fail(model::Error::Kind::conflict,
                         out.user_id + " exists, and mxctl never keeps credentials, so it has none to hand over: "
                                       "run again with --rotate-password to log out its devices and give it a new "
                                       "access token");
    }
    // The old bundle's token, and every other device's, stop working here.
    if (auto logged_out = appservice.post(api::k_client + "/logout/all" + as_user, nlohmann::json::object());
        !logged_out) {
      return failed(logged_out.error(), "log out the devices of " + out.user_id);
    }
  }
  if (request.display_name) {
    model::Account account;
    account.key = request.localpart;
    account.localpart = request.localpart;
    account.user_id = out.user_id;
    account.display_name = request.display_name;
    if (auto profile = provision_account(appservice, settings, account, false); !profile) {
      return tl::unexpected(profile.error());
    }
  }
  const ActingAs acting{appservice, out.user_id, as_user};
  auto room = find_sync_room(acting, request.marker_type);
  if (!room) {
    return tl::unexpected(room.error());
  }
  if (*room) {
    out.room_id = **room;
  } else {
    auto made = create_sync_room(acting, request);
    if (!made) {
      return tl::unexpected(made.error());
    }
    out.room_id = *made;
    out.room_created = true;
  }
  auto device = mint_device(appservice, settings, options, out.user_id);
  if (!device) {
    return tl::unexpected(device.error());
  }
  out.access_token = std::move(device->first);
  out.device_id = std::move(device->second);
  return out;
}

}  // namespace adapters
