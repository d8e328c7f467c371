#pragma once
// An account with its own private sync room for one person's devices. With
// the Synapse admin API: the account (created, or found and its password
// rotated on request), a short-lived login as the account to create its
// room (Synapse has no admin call that creates a room for someone). As an
// appservice: the account registered by it, the room made masquerading as
// the account, and an access token minted for a new device in place of a
// password. Either way the room is found again by its marker.

#include <chrono>
#include <optional>
#include <string>

#include "adapters/homeserver/matrix_client.h"
#include "model/result.h"
#include "model/settings.h"

namespace adapters {

/// What to provision.
struct SyncAccountRequest {
  std::string localpart;
  /// Set on the account (and used as the room's name); nothing: left as is.
  std::optional<std::string> display_name;
  /// The state event type that marks the account's sync room.
  std::string marker_type = "m.lotti.sync_room";
  /// Give an existing account a new password, or in appservice mode a new
  /// access token (either way its devices are logged out).
  bool rotate_password = false;
  /// How long the login as the account may be used.
  std::chrono::minutes login_lifetime{10};
};

/// What was provisioned.
struct SyncAccount {
  std::string user_id;
  std::string password;  ///< the new password; never stored by mxctl
  std::string access_token;  ///< appservice mode, instead of a password; never stored
  std::string device_id;     ///< the device the access token belongs to
  std::string room_id;
  bool account_created = false;
  bool room_created = false;
};

/// Provisions `request` on the homeserver of `settings` with the bot's
/// `admin_token` (a server admin): the account is created with a random
/// password, or, when it exists, only with `rotate_password` given a new
/// one (otherwise an error: mxctl never keeps passwords, so it has none to
/// hand over). The new password is then proven by logging in with it (and
/// out again). As the account (a login through the admin API, logged out
/// afterwards), its joined rooms are searched for the marker; without one
/// an encrypted, non-federating trusted_private_chat room carrying the
/// marker is created, with the account its only member. Errors say which
/// step failed and the server's errcode; a run that failed part-way can be
/// repeated (with rotate_password once the account exists).
model::Result<SyncAccount> provision_sync_account(const model::Settings& settings, const std::string& admin_token,
                                                  const ClientOptions& options, const SyncAccountRequest& request);

/// Provisions `request` as the appservice whose `as_token` is given, on a
/// homeserver without the admin API: the account is registered by the
/// appservice, or, when it exists, only with `rotate_password` taken on
/// (its devices logged out; otherwise an error, as mxctl keeps no
/// credentials to hand over). The display name is set when it differs;
/// the sync room is found or created masquerading as the account; last a
/// new device is logged in with `m.login.application_service`, its token
/// proven with whoami. Errors say which step failed and the errcode; a run
/// that failed part-way can be repeated (with rotate_password).
model::Result<SyncAccount> provision_appservice_sync_account(const model::Settings& settings,
                                                             const std::string& as_token, const ClientOptions& options,
                                                             const SyncAccountRequest& request);

}  // namespace adapters
