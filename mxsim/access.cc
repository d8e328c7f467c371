#include "mxsim/access.h"

#include "mxsim/errors.h"
#include "mxsim/ids.h"

namespace mxsim {

Requester authenticate(ServerState& state, const ApiRequest& request) {
  std::optional<std::string> token = request.access_token();
  if (!token) {
    throw MatrixError(401, "M_MISSING_TOKEN", "Missing access token.");
  }
  Requester requester;
  requester.token = *token;
  if (const AppService* service = state.appservice_by_token(*token)) {
    std::string sender = service->sender(state.server_name);
    requester.appservice_id = service->id;
    requester.user_id = sender;
    if (auto user_id = request.query_param("user_id"); user_id && *user_id != sender) {
      if (!service->interested_in_user(*user_id, state.server_name)) {
        throw forbidden("Application service cannot masquerade as this user.");
      }
      if (!state.find_user(*user_id)) {
        throw forbidden("Application service has not registered this user");
      }
      requester.user_id = *user_id;
    }
    if (User* user = state.find_user(requester.user_id)) {
      requester.admin = user->admin;
    }
    return requester;
  }
  auto found = state.tokens.find(*token);
  if (found == state.tokens.end()) {
    throw MatrixError(401, "M_UNKNOWN_TOKEN", "Invalid access token passed.", {{"soft_logout", false}});
  }
  const AccessToken& access = found->second;
  if (access.valid_until_ms && *access.valid_until_ms < now_ms()) {
    throw MatrixError(401, "M_UNKNOWN_TOKEN", "Access token has expired", {{"soft_logout", true}});
  }
  User* user = state.find_user(access.user_id);
  if (!user || user->deactivated) {
    throw MatrixError(401, "M_UNKNOWN_TOKEN", "Invalid access token passed.", {{"soft_logout", false}});
  }
  if (user->locked) {
    throw MatrixError(401, "M_USER_LOCKED", "User account has been locked", {{"soft_logout", true}});
  }
  requester.user_id = access.user_id;
  requester.device_id = access.device_id;
  requester.admin = user->admin;
  return requester;
}

void require_admin(const Requester& requester) {
  if (!requester.admin) {
    throw forbidden("You are not a server admin");
  }
}

void require_not_suspended(ServerState& state, const Requester& requester, const std::string& message) {
  User* user = state.find_user(requester.user_id);
  if (user && user->suspended) {
    throw user_suspended(message);
  }
}

}  // namespace mxsim
