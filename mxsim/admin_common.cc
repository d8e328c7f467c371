#include "mxsim/admin_common.h"

#include "mxsim/errors.h"
#include "mxsim/homeserver.h"
#include "mxsim/ids.h"

namespace mxsim {

Requester admin_requester(Homeserver& hs, const ApiRequest& request) {
  Requester requester = authenticate(hs.state(), request);
  require_admin(requester);
  return requester;
}

std::string local_user_param(ServerState& state, const std::string& user_id, const std::string& remote_message) {
  if (!parse_user_id(user_id)) {
    throw invalid_param("Invalid user id: " + user_id);
  }
  if (!state.is_local_user(user_id)) {
    throw unknown_error(400, remote_message);
  }
  return user_id;
}

int query_int(const ApiRequest& request, const std::string& name, int fallback) {
  auto value = request.query_param(name);
  if (!value) {
    return fallback;
  }
  try {
    size_t used = 0;
    int parsed = std::stoi(*value, &used);
    if (used != value->size() || parsed < 0) {
      throw std::invalid_argument("negative");
    }
    return parsed;
  } catch (const std::exception&) {
    throw invalid_param("Query parameter " + name + " must be a string representing a positive integer.");
  }
}

}  // namespace mxsim
