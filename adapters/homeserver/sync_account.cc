#include "adapters/homeserver/sync_account.h"

#include "adapters/homeserver/answer_shape.h"
#include "adapters/homeserver/api_paths.h"
#include "adapters/homeserver/error_context.h"
#include "adapters/homeserver/provisioning_bundle.h"
#include "adapters/homeserver/sync_room.h"

namespace adapters {

namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The account as the admin API shows it: nothing when there is none.
model::Result<std::optional<nlohmann::json>> find_account(MatrixClient& admin, const std::string& user_id) {
  auto found = admin.get(api::k_admin_v2 + "/users/" + encode_path_segment(user_id));
  if (!found) {
    if (found.error().status == 404) {
      return std::optional<nlohmann::json>();
    }
    return failed(found.error(), "look up " + user_id);
  }
  if (!found->is_object()) {
    return model::fail(model::Error::Kind::invalid, "look up " + user_id + ": the answer is not a JSON object");
  }
  return std::optional<nlohmann::json>(std::move(*found));
}

// Synapse answers `deactivated` as a boolean, older ones as 0 or 1.
bool is_deactivated(const nlohmann::json& account) {
  auto deactivated = account.find("deactivated");
  return deactivated != account.end() && flag_value(*deactivated);
}

// Logs in with the password, then out again: the one proof that the
// password the bundle carries is the account's.
model::Result<void> prove_password(const model::Settings& settings, const ClientOptions& options,
                                   const std::string& user_id, const std::string& password) {
  MatrixClient anonymous(settings.homeserver_url, "", options);
  auto login = anonymous.post(api::k_client + "/login",
                              {{"type", "m.login.password"},
                               {"identifier", {{"type", "m.id.user"}, {"user", user_id}}},
                               {"password", password},
                               {"initial_device_display_name", "mxctl provision (check)"}});
  if (!login) {
    return failed(login.error(), "log in as " + user_id + " with the new password");
  }
  const auto token = login->find("access_token");
  if (token == login->end() || !token->is_string()) {
    return model::fail(model::Error::Kind::invalid,
                       "log in as " + user_id + " with the new password: the answer has no access_token");
  }
  MatrixClient as_user(settings.homeserver_url, token->get<std::string>(), options);
  if (auto out = as_user.post(api::k_client + "/logout", nlohmann::json::object()); !out) {
    return failed(out.error(), "log out the check login of " + user_id);
  }
  return {};
}

}  // namespace

model::Result<SyncAccount> provision_sync_account(const model::Settings& settings, const std::string& admin_token,
                                                  const ClientOptions& options, const SyncAccountRequest& request) {
  SyncAccount out;
  out.user_id = "@" + request.localpart + ":" + settings.server_name;
  MatrixClient admin(settings.homeserver_url, admin_token, options);
  auto existing = find_account(admin, out.user_id);
  if (!existing) {
    return tl::unexpected(existing.error());
  }
  if (*existing && is_deactivated(**existing)) {
    return model::fail(model::Error::Kind::conflict, out.user_id + " is deactivated; mxctl does not bring it back");
  }
  if (*existing && !request.rotate_password) {
    return model::fail(model::Error::Kind::conflict,
                       out.user_id + " exists, and mxctl never keeps passwords, so it has none to hand over: run "
                                     "again with --rotate-password to give it a new one (its devices are logged "
                                     "out)");
  }
  auto password = random_secret();
  if (!password) {
    return tl::unexpected(password.error());
  }
  out.password = std::move(*password);
  out.account_created = !*existing;
  nlohmann::json account = {{"password", out.password}};
  if (!*existing) {
    account["admin"] = false;
  }
  if (request.display_name) {
    account["displayname"] = *request.display_name;
  }
  if (auto written = admin.put(api::k_admin_v2 + "/users/" + encode_path_segment(out.user_id), account); !written) {
    return failed(written.error(), (*existing ? "set the new password of " : "create ") + out.user_id);
  }
  if (auto proven = prove_password(settings, options, out.user_id, out.password); !proven) {
    return tl::unexpected(proven.error());
  }

  const std::string login_path = api::k_admin_v1 + "/users/" + encode_path_segment(out.user_id) + "/login";
  const auto until = now_ms() + std::chrono::duration_cast<std::chrono::milliseconds>(request.login_lifetime).count();
  auto login = admin.post(login_path, {{"valid_until_ms", until}});
  if (!login) {
    return failed(login.error(), "log in as " + out.user_id + " through the admin API");
  }
  auto token = login->find("access_token");
  if (token == login->end() || !token->is_string()) {
    return model::fail(model::Error::Kind::invalid,
                       "log in as " + out.user_id + " through the admin API: the answer has no access_token");
  }
  MatrixClient as_user(settings.homeserver_url, token->get<std::string>(), options);
  const ActingAs acting{as_user, out.user_id, ""};
  auto room = find_sync_room(acting, request.marker_type);
  model::Result<std::string> room_id = !room    ? tl::unexpected(room.error())
                                       : *room ? model::Result<std::string>(**room)
                                               : create_sync_room(acting, request);
  out.room_created = room && !*room && room_id;
  // The login was only for this: it ends here whatever happened above.
  auto logged_out = as_user.post(api::k_client + "/logout", nlohmann::json::object());
  if (!room_id) {
    return tl::unexpected(room_id.error());
  }
  if (!logged_out) {
    return failed(logged_out.error(), "log out the admin login as " + out.user_id);
  }
  out.room_id = std::move(*room_id);
  return out;
}

}  // namespace adapters
