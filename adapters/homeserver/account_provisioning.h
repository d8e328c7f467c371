#pragma once
// Accounts on the homeserver, in either provisioning mode (seed 000/001):
// - synapse-admin: the Synapse admin API (`/_synapse/admin/v2/users`), which
//   sees and sets everything (profile, admin flag, deactivation);
// - appservice: an application service registration, portable to Conduit,
//   Tuwunel and Dendrite. The access token is the registration's as_token,
//   accounts are registered with `m.login.application_service`, and profiles
//   are written by masquerading (`?user_id=`). There is no way to list
//   accounts or to read or set the server-admin flag in this mode.

#include <set>

#include "adapters/homeserver/matrix_client.h"
#include "model/matrix_state.h"
#include "model/observed_state.h"
#include "model/result.h"
#include "model/settings.h"

namespace adapters {

/// Adds to `out.accounts` every account of `desired` that exists, keyed like
/// `desired`, with its profile and (synapse-admin) admin flag and status.
/// Absent accounts are left out. In appservice mode `admin` is copied from
/// the desired account (it cannot be observed) and the status is active.
/// With the admin API, suspension (which the user list does not show) is
/// read per account for those `desired` wants suspended and the keys in
/// `suspended_by_us`; when those answers show the server cannot suspend,
/// `out.cannot_suspend` says why (unless accounts are deactivated instead).
/// Errors name the action and the homeserver's errcode.
model::Result<void> observe_accounts(MatrixClient& client, const model::Settings& settings,
                                     const model::MatrixState& desired, const std::set<std::string>& suspended_by_us,
                                     model::ObservedState& out);

/// What mxctl reads of Synapse's account details
/// (`GET /_synapse/admin/v2/users/{id}`).
struct AccountDetails {
  bool suspended = false;    ///< suspended or locked
  bool deactivated = false;
  /// The answer has `suspended` or `locked` at all (Synapse before 1.93 has
  /// neither: no way to suspend that mxctl could read back).
  bool shows_suspension = false;
};

/// Reads account details answered to `method` `path`: an object whose flags
/// are absent, booleans or 0/1 integers; anything else (an empty body, a
/// flag "yes") is an error naming the request and the field.
model::Result<AccountDetails> read_account_details(const std::string& method, const std::string& path,
                                                  const nlohmann::json& body);

/// Creates (`creating`) or updates `account` so that its profile (and, with
/// synapse-admin, its admin flag) is as desired. Safe to repeat: an existing
/// account (M_USER_IN_USE) counts as created, and an unchanged profile field
/// is not written again in appservice mode.
model::Result<void> provision_account(MatrixClient& client, const model::Settings& settings,
                                      const model::Account& account, bool creating);

}  // namespace adapters
