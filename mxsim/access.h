#pragma once
// Who is asking: access tokens (user tokens and appservice as_tokens with
// `?user_id=` masquerading) resolved to a Requester, with Synapse's 401/403
// answers for missing, unknown, expired and locked credentials.

#include <string>

#include "mxsim/request.h"
#include "mxsim/state.h"

namespace mxsim {

/// The authenticated party of one request.
struct Requester {
  std::string user_id;
  std::string device_id;
  std::string token;          ///< the access token presented
  std::string appservice_id;  ///< set when the token is an appservice as_token
  bool admin = false;         ///< server admin
};

/// Resolves the request's token. Throws 401 M_MISSING_TOKEN (none), 401
/// M_UNKNOWN_TOKEN (unknown, expired or deactivated; `soft_logout`), 401
/// M_USER_LOCKED (locked account), or for appservices 403 M_FORBIDDEN when
/// `user_id` is outside its namespace or not registered.
Requester authenticate(ServerState& state, const ApiRequest& request);
/// Throws 403 M_FORBIDDEN "You are not a server admin" unless `requester` is one.
void require_admin(const Requester& requester);
/// Throws 403 M_USER_SUSPENDED with `message` when the requester's account is suspended.
void require_not_suspended(ServerState& state, const Requester& requester, const std::string& message);

}  // namespace mxsim
