#include "adapters/homeserver/appservice_listener.h"

#include <httplib.h>

#include <algorithm>
#include <optional>
#include <string_view>

namespace adapters {

namespace {

enum class Route { transaction, user, room_alias, ping };

// Where each route is served: the spec's path and, for the routes that had
// one, the legacy path the spec still has homeservers fall back to.
struct RoutePath {
  const char* method;
  std::string_view prefix;
  Route route;
  bool has_parameter;
};
constexpr RoutePath k_routes[] = {
    {"PUT", "/_matrix/app/v1/transactions/", Route::transaction, true},
    {"PUT", "/transactions/", Route::transaction, true},
    {"GET", "/_matrix/app/v1/users/", Route::user, true},
    {"GET", "/users/", Route::user, true},
    {"GET", "/_matrix/app/v1/rooms/", Route::room_alias, true},
    {"GET", "/rooms/", Route::room_alias, true},
    {"POST", "/_matrix/app/v1/ping", Route::ping, false},
};

struct Matched {
  Route route;
  std::string parameter;
};

void answer(httplib::Response& response, int status, const nlohmann::json& body) {
  response.status = status;
  response.set_content(body.dump(), "application/json");
}

void error(httplib::Response& response, int status, const char* errcode, const std::string& message) {
  answer(response, status, {{"errcode", errcode}, {"error", message}});
}

// The route `path` (decoded) names, when `method` is the one it is served
// with; `wrong_method` is set when the path is known but the method is not.
std::optional<Matched> match(const std::string& method, const std::string& path, bool& wrong_method) {
  for (const RoutePath& candidate : k_routes) {
    std::string parameter;
    if (candidate.has_parameter) {
      if (!path.starts_with(candidate.prefix)) {
        continue;
      }
      parameter = path.substr(candidate.prefix.size());
      if (parameter.empty() || parameter.find('/') != std::string::npos) {
        continue;
      }
    } else if (path != candidate.prefix) {
      continue;
    }
    if (method != candidate.method) {
      wrong_method = true;
      continue;
    }
    return Matched{candidate.route, std::move(parameter)};
  }
  return std::nullopt;
}

// Compares without stopping at the first difference, so the time taken
// does not tell a guesser how much of the token was right.
bool same_token(const std::string& given, const std::string& expected) {
  if (expected.empty() || given.size() != expected.size()) {
    return false;
  }
  unsigned char difference = 0;
  for (std::size_t i = 0; i < given.size(); ++i) {
    difference |= static_cast<unsigned char>(given[i] ^ expected[i]);
  }
  return difference == 0;
}

// The spec: the hs_token as a Bearer token, else 401; a wrong one 403
// M_FORBIDDEN. The legacy query parameter counts as credentials too, and
// when both come both must match.
bool authenticated(const httplib::Request& request, httplib::Response& response, const std::string& hs_token) {
  std::optional<std::string> bearer;
  if (request.has_header("Authorization")) {
    const std::string header = request.get_header_value("Authorization");
    constexpr std::string_view k_scheme = "Bearer ";
    if (header.size() > k_scheme.size() && header.compare(0, k_scheme.size(), k_scheme) == 0) {
      bearer = header.substr(k_scheme.size());
    }
  }
  std::optional<std::string> query;
  if (request.has_param("access_token")) {
    query = request.get_param_value("access_token");
  }
  if (!bearer && !query) {
    error(response, 401, "M_UNAUTHORIZED", "no hs_token: send it as an Authorization: Bearer header");
    return false;
  }
  if ((bearer && !same_token(*bearer, hs_token)) || (query && !same_token(*query, hs_token))) {
    error(response, 403, "M_FORBIDDEN", "the hs_token is not this application service's");
    return false;
  }
  return true;
}

// The request body as a JSON object; answers 400 and returns nothing when
// it is not one (M_NOT_JSON: not JSON at all, M_BAD_JSON: not an object).
std::optional<nlohmann::json> object_body(const httplib::Request& request, httplib::Response& response,
                                          bool empty_is_object) {
  if (request.body.empty() && empty_is_object) {
    return nlohmann::json::object();
  }
  nlohmann::json body = nlohmann::json::parse(request.body, nullptr, false);
  if (body.is_discarded()) {
    error(response, 400, "M_NOT_JSON", "the body is not JSON");
    return std::nullopt;
  }
  if (!body.is_object()) {
    error(response, 400, "M_BAD_JSON", "the body must be a JSON object");
    return std::nullopt;
  }
  return body;
}

// The transaction's shape (transactions.yaml): `events` an array of event
// objects, `ephemeral` (when present) an array too.
std::optional<std::string> transaction_shape_problem(const nlohmann::json& body) {
  auto events = body.find("events");
  if (events == body.end()) {
    return "the body has no events";
  }
  if (!events->is_array()) {
    return "events must be an array";
  }
  for (const nlohmann::json& event : *events) {
    if (!event.is_object()) {
      return "each of events must be an event object";
    }
  }
  if (auto ephemeral = body.find("ephemeral"); ephemeral != body.end() && !ephemeral->is_array()) {
    return "ephemeral must be an array";
  }
  return std::nullopt;
}

void answer_query(httplib::Response& response, QueryAnswer found, const std::string& what) {
  switch (found) {
    case QueryAnswer::exists: answer(response, 200, nlohmann::json::object()); return;
    case QueryAnswer::absent: error(response, 404, "M_NOT_FOUND", what + " is not managed here"); return;
    case QueryAnswer::failed: error(response, 500, "M_UNKNOWN", what + " could not be made; ask again"); return;
  }
}

void serve(const AppserviceHandlers& handlers, const std::string& hs_token, const httplib::Request& request,
           httplib::Response& response) {
  bool wrong_method = false;
  std::optional<Matched> matched = match(request.method, request.path, wrong_method);
  if (!matched) {
    if (wrong_method) {
      error(response, 405, "M_UNRECOGNIZED", "unsupported method for " + request.path);
    } else {
      error(response, 404, "M_UNRECOGNIZED", "unrecognized request");
    }
    return;
  }
  if (!authenticated(request, response, hs_token)) {
    return;
  }
  switch (matched->route) {
    case Route::transaction: {
      auto body = object_body(request, response, false);
      if (!body) {
        return;
      }
      if (auto problem = transaction_shape_problem(*body)) {
        error(response, 400, "M_BAD_JSON", *problem);
        return;
      }
      auto done = handlers.transaction ? handlers.transaction(matched->parameter, (*body)["events"])
                                       : model::Result<void>{};
      if (!done) {
        error(response, 500, "M_UNKNOWN", "transaction " + matched->parameter + " not recorded; send it again");
        return;
      }
      answer(response, 200, nlohmann::json::object());
      return;
    }
    case Route::user:
      answer_query(response, handlers.user ? handlers.user(matched->parameter) : QueryAnswer::absent,
                   "user " + matched->parameter);
      return;
    case Route::room_alias:
      answer_query(response, handlers.room_alias ? handlers.room_alias(matched->parameter) : QueryAnswer::absent,
                   "room alias " + matched->parameter);
      return;
    case Route::ping: {
      auto body = object_body(request, response, true);
      if (!body) {
        return;
      }
      if (auto id = body->find("transaction_id"); id != body->end() && !id->is_string()) {
        error(response, 400, "M_BAD_JSON", "transaction_id must be a string");
        return;
      }
      answer(response, 200, nlohmann::json::object());
      return;
    }
  }
}

}  // namespace

AppserviceListener::AppserviceListener(AppserviceListenerOptions options, AppserviceHandlers handlers)
    : m_options(std::move(options)), m_handlers(std::move(handlers)) {}

AppserviceListener::~AppserviceListener() { stop(); }

model::Result<void> AppserviceListener::start() {
  if (m_server) {
    return {};
  }
  auto server = std::make_unique<httplib::Server>();
  const int threads = std::max(1, m_options.threads);
  server->new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<std::size_t>(threads)); };
  server->set_payload_max_length(m_options.max_body_bytes);
  server->set_read_timeout(m_options.read_timeout.count(), 0);
  server->set_write_timeout(m_options.write_timeout.count(), 0);
  // Short: stop() waits for idle keep-alive connections to time out.
  server->set_keep_alive_timeout(2);
  server->set_keep_alive_max_count(1000);
  auto handler = [this](const httplib::Request& request, httplib::Response& response) {
    try {
      serve(m_handlers, m_options.hs_token, request, response);
    } catch (const std::exception& failure) {
      error(response, 500, "M_UNKNOWN", failure.what());
    }
  };
  server->Get(".*", handler);
  server->Put(".*", handler);
  server->Post(".*", handler);
  server->Delete(".*", handler);
  server->Patch(".*", handler);
  server->Options(".*", handler);
  const std::string where = m_options.host + ":" + std::to_string(m_options.port);
  int port = m_options.port == 0 ? server->bind_to_any_port(m_options.host.c_str())
                                 : (server->bind_to_port(m_options.host.c_str(), m_options.port) ? m_options.port : -1);
  if (port <= 0) {
    return model::fail(model::Error::Kind::invalid, "appservice listener: cannot listen on " + where);
  }
  m_port = port;
  m_server = std::move(server);
  m_thread = std::thread([this] { m_server->listen_after_bind(); });
  // Bound: a listener that stopped at once (it cannot accept) never runs.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!m_server->is_running() && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!m_server->is_running()) {
    stop();
    return model::fail(model::Error::Kind::invalid, "appservice listener: cannot serve on " + where);
  }
  return {};
}

void AppserviceListener::stop() {
  if (!m_server) {
    return;
  }
  m_server->stop();
  if (m_thread.joinable()) {
    m_thread.join();
  }
  m_server.reset();
}

}  // namespace adapters
