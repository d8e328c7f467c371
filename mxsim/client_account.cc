// Client-server API, account side: versions, login/logout, appservice
// registration, whoami and capabilities.

#include <algorithm>

#include "mxsim/errors.h"
#include "mxsim/homeserver.h"
#include "mxsim/ids.h"
#include "mxsim/request.h"
#include "mxsim/routes.h"

namespace mxsim {

namespace {

/// The user id a login names: "@x:server" as given, a bare localpart qualified (lower-cased).
std::string login_user_id(ServerState& state, const nlohmann::json& body) {
  std::string user;
  if (body.contains("identifier") && body["identifier"].is_object()) {
    const auto& identifier = body["identifier"];
    if (identifier.value("type", "") != "m.id.user") {
      throw unknown_error(400, "Unknown login identifier type");
    }
    if (!identifier.contains("user") || !identifier["user"].is_string()) {
      throw missing_param("User identifier is missing 'user' key");
    }
    user = identifier["user"].get<std::string>();
  } else if (body.contains("user") && body["user"].is_string()) {
    user = body["user"].get<std::string>();
  } else {
    throw missing_param("Missing JSON keys.");
  }
  if (!user.empty() && user[0] == '@') {
    return user;
  }
  return state.local_user_id(lower(user));
}

nlohmann::json login_answer(ServerState& state, const std::string& user_id, const std::string& token,
                            const std::string& device_id) {
  return {{"user_id", user_id}, {"access_token", token}, {"device_id", device_id}, {"home_server", state.server_name}};
}

}  // namespace

void add_client_account_routes(Homeserver& hs, Router& router) {
  router.add("GET", "/_matrix/client/versions", [](const ApiRequest&, const PathParams&) {
    return ApiResponse::json(200, {{"versions", {"r0.5.0", "r0.6.0", "r0.6.1", "v1.1", "v1.2", "v1.3", "v1.4", "v1.5"}},
                                   {"unstable_features", nlohmann::json::object()}});
  });

  router.add_client("GET", "/login", [](const ApiRequest&, const PathParams&) {
    return ApiResponse::json(
        200, {{"flows", {{{"type", "m.login.password"}}, {{"type", "m.login.application_service"}}}}});
  });

  router.add_client("POST", "/login", [&hs](const ApiRequest& request, const PathParams&) {
    nlohmann::json body = request.json_object();
    auto lock = hs.write_lock();
    ServerState& state = hs.state();
    if (!body.contains("type") || !body["type"].is_string()) {
      throw missing_param("Missing JSON keys.");
    }
    std::string type = body["type"].get<std::string>();
    std::string device_id = body.contains("device_id") && body["device_id"].is_string()
                                ? body["device_id"].get<std::string>()
                                : random_string(10);
    if (type == "m.login.password") {
      std::string user_id = login_user_id(state, body);
      if (!body.contains("password") || !body["password"].is_string()) {
        throw missing_param("Missing parameter: password");
      }
      User* user = state.find_user(user_id);
      if (user && user->deactivated) {
        throw MatrixError(403, "M_USER_DEACTIVATED", "This account has been deactivated");
      }
      if (!user || user->password.empty() || user->password != body["password"].get<std::string>()) {
        throw forbidden("Invalid username or password");
      }
      if (user->locked) {
        throw MatrixError(401, "M_USER_LOCKED", "User account has been locked", {{"soft_logout", true}});
      }
      std::string token = state.mint_token(user_id, device_id);
      return ApiResponse::json(200, login_answer(state, user_id, token, device_id));
    }
    if (type == "m.login.application_service") {
      std::optional<std::string> token = request.access_token();
      if (!token) {
        throw MatrixError(401, "M_MISSING_TOKEN", "Missing access token.");
      }
      const AppService* service = state.appservice_by_token(*token);
      if (!service) {
        throw MatrixError(401, "M_UNKNOWN_TOKEN", "Unrecognised appservice access token.", {{"soft_logout", false}});
      }
      std::string user_id = login_user_id(state, body);
      if (!service->interested_in_user(user_id, state.server_name)) {
        throw MatrixError(403, "M_EXCLUSIVE", "Invalid access_token");
      }
      User* user = state.find_user(user_id);
      if (!user || user->deactivated) {
        throw forbidden("Invalid username or password");
      }
      std::string minted = state.mint_token(user_id, device_id);
      return ApiResponse::json(200, login_answer(state, user_id, minted, device_id));
    }
    throw unknown_error(400, "Unknown login type " + type);
  });

  router.add_client("POST", "/logout", [&hs](const ApiRequest& request, const PathParams&) {
    auto lock = hs.write_lock();
    ServerState& state = hs.state();
    Requester requester = authenticate(state, request);
    state.tokens.erase(requester.token);
    ++state.revision;
    return ApiResponse::json(200, nlohmann::json::object());
  });

  router.add_client("POST", "/logout/all", [&hs](const ApiRequest& request, const PathParams&) {
    auto lock = hs.write_lock();
    ServerState& state = hs.state();
    Requester requester = authenticate(state, request);
    for (auto it = state.tokens.begin(); it != state.tokens.end();) {
      it = it->second.user_id == requester.user_id ? state.tokens.erase(it) : std::next(it);
    }
    ++state.revision;
    return ApiResponse::json(200, nlohmann::json::object());
  });

  router.add_client("POST", "/register", [&hs](const ApiRequest& request, const PathParams&) {
    nlohmann::json body = request.json_object(true);
    auto lock = hs.write_lock();
    ServerState& state = hs.state();
    std::string kind = request.query_param("kind").value_or("user");
    if (kind == "guest") {
      throw forbidden("Guest access is disabled");
    }
    if (kind != "user") {
      throw MatrixError(400, "M_UNRECOGNIZED", "Do not understand membership kind: " + kind);
    }
    if (body.value("type", "") == "m.login.application_service") {
      std::optional<std::string> token = request.access_token();
      if (!token) {
        throw unknown_error(400, "Appservice token must be provided when using a type of m.login.application_service");
      }
      const AppService* service = state.appservice_by_token(*token);
      if (!service) {
        throw MatrixError(401, "M_UNKNOWN_TOKEN", "Unrecognised appservice access token.", {{"soft_logout", false}});
      }
      nlohmann::json username = body.contains("user") ? body["user"] : body.value("username", nlohmann::json());
      if (!username.is_string()) {
        throw unknown_error(400, "Desired Username is missing or not a string");
      }
      std::string localpart = username.get<std::string>();
      if (auto problem = localpart_problem(localpart, state.server_name)) {
        throw MatrixError(400, "M_INVALID_USERNAME", *problem);
      }
      std::string user_id = state.local_user_id(localpart);
      if (!service->interested_in_user(user_id, state.server_name)) {
        throw MatrixError(400, "M_EXCLUSIVE", "Invalid user localpart for this application service.");
      }
      for (const auto& other : state.appservices) {
        if (other.id != service->id && other.exclusive_user(user_id)) {
          throw MatrixError(400, "M_EXCLUSIVE", "This user ID is reserved by an application service.");
        }
      }
      if (state.find_user(user_id)) {
        throw MatrixError(400, "M_USER_IN_USE", "User ID already taken.");
      }
      User user;
      user.user_id = user_id;
      user.appservice_id = service->exclusive_user(user_id) ? service->id : "";
      user.creation_ts_ms = now_ms();
      user.displayname = localpart;
      state.users[user_id] = std::move(user);
      state.advance_stream();
      nlohmann::json answer = {{"user_id", user_id}, {"home_server", state.server_name}};
      if (!body.value("inhibit_login", false)) {
        std::string device_id = body.value("device_id", random_string(10));
        answer["device_id"] = device_id;
        answer["access_token"] = state.mint_token(user_id, device_id);
      }
      return ApiResponse::json(200, answer);
    }
    if (request.access_token()) {
      throw unknown_error(400, "An access token should not be provided on requests to /register (except if "
                               "using an Application Service)");
    }
    throw forbidden("Registration has been disabled");
  });

  router.add_client("GET", "/register/available", [&hs](const ApiRequest& request, const PathParams&) {
    auto lock = hs.read_lock();
    ServerState& state = hs.state();
    std::string localpart = request.query_param("username").value_or("");
    if (auto problem = localpart_problem(localpart, state.server_name)) {
      throw MatrixError(400, "M_INVALID_USERNAME", *problem);
    }
    std::string user_id = state.local_user_id(localpart);
    if (state.exclusive_user_owner(user_id)) {
      throw MatrixError(400, "M_EXCLUSIVE", "This user ID is reserved by an application service.");
    }
    if (state.find_user(user_id)) {
      throw MatrixError(400, "M_USER_IN_USE", "User ID already taken.");
    }
    return ApiResponse::json(200, {{"available", true}});
  });

  router.add_client("GET", "/account/whoami", [&hs](const ApiRequest& request, const PathParams&) {
    auto lock = hs.read_lock();
    Requester requester = authenticate(hs.state(), request);
    nlohmann::json body = {{"user_id", requester.user_id}, {"is_guest", false}};
    if (!requester.device_id.empty()) {
      body["device_id"] = requester.device_id;
    }
    return ApiResponse::json(200, body);
  });

  router.add_client("GET", "/capabilities", [&hs](const ApiRequest& request, const PathParams&) {
    auto lock = hs.read_lock();
    authenticate(hs.state(), request);
    nlohmann::json versions = nlohmann::json::object();
    for (int v = 1; v <= 11; ++v) {
      versions[std::to_string(v)] = "stable";
    }
    return ApiResponse::json(
        200, {{"capabilities",
               {{"m.room_versions", {{"default", hs.settings().default_room_version}, {"available", versions}}},
                {"m.change_password", {{"enabled", true}}},
                {"m.set_displayname", {{"enabled", true}}},
                {"m.set_avatar_url", {{"enabled", true}}}}}});
  });

}

}  // namespace mxsim
