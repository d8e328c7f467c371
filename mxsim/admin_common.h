#pragma once
// Helpers shared by the Synapse admin API files: the admin check, local user
// ids from the path, and integer query parameters.

#include <string>

#include "mxsim/access.h"
#include "mxsim/request.h"
#include "mxsim/state.h"

namespace mxsim {

class Homeserver;

/// Authenticates the request (lock held by the caller) and throws 403
/// "You are not a server admin" unless the requester is one.
Requester admin_requester(Homeserver& hs, const ApiRequest& request);
/// `user_id` when it is a local user id; 400 M_INVALID_PARAM when it is not a
/// user id, 400 M_UNKNOWN `remote_message` when it is another server's.
std::string local_user_param(ServerState& state, const std::string& user_id, const std::string& remote_message);
/// Query parameter `name` as a non-negative integer, `fallback` when absent;
/// 400 M_INVALID_PARAM otherwise (Synapse's wording).
int query_int(const ApiRequest& request, const std::string& name, int fallback);

}  // namespace mxsim
