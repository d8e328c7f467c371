// The simulator's own control endpoint under /_mxsim: request journal and
// counters, fault injection, rate limiting, forked writes and unreachable
// servers, for tests and operators.
// Guarded by a server admin's access token or the configured control token.

#include "mxsim/errors.h"
#include "mxsim/homeserver.h"
#include "mxsim/routes.h"

namespace mxsim {

namespace {

void authorize_control(Homeserver& hs, const ApiRequest& request) {
  std::optional<std::string> token = request.access_token();
  if (token && !hs.settings().control_token.empty() && *token == hs.settings().control_token) {
    return;
  }
  auto lock = hs.read_lock();
  require_admin(authenticate(hs.state(), request));
}

uint64_t parse_u64(const std::string& text, const std::string& what) {
  try {
    return std::stoull(text);
  } catch (const std::exception&) {
    throw invalid_param(what + " must be a non-negative integer");
  }
}

}  // namespace

ApiResponse handle_control_request(Homeserver& hs, const ApiRequest& request) {
  const auto& segments = request.segments;
  const std::string what = segments.size() > 1 ? segments[1] : "";
  const std::string& method = request.method;

  if (what == "health" && method == "GET") {
    return ApiResponse::json(200, {{"ok", true}, {"server_name", hs.server_name()}});
  }
  authorize_control(hs, request);

  if (what == "journal" && method == "GET") {
    uint64_t after = parse_u64(request.query_param("after").value_or("0"), "after");
    nlohmann::json entries = nlohmann::json::array();
    for (const auto& entry : hs.journal().entries(after)) {
      entries.push_back(entry.to_json());
    }
    return ApiResponse::json(200, {{"entries", entries}, {"last_seq", hs.journal().last_seq()}});
  }
  if (what == "stats" && method == "GET") {
    nlohmann::json stats = hs.journal().stats().to_json();
    stats["last_seq"] = hs.journal().last_seq();
    stats["appservice_transactions"] = hs.appservice_client().transactions_sent();
    {
      // The stream position moves with every event and account change, so
      // two readings tell whether anything at all changed in between.
      auto lock = hs.read_lock();
      stats["stream_position"] = hs.state().stream;
    }
    return ApiResponse::json(200, stats);
  }
  if (what == "reset-stats" && method == "POST") {
    hs.journal().reset();
    return ApiResponse::json(200, nlohmann::json::object());
  }
  if (what == "faults") {
    if (segments.size() == 2 && method == "GET") {
      nlohmann::json rules = nlohmann::json::array();
      for (const auto& rule : hs.faults().rules()) {
        rules.push_back(rule.to_json());
      }
      return ApiResponse::json(200, {{"faults", rules}});
    }
    if (segments.size() == 2 && method == "POST") {
      uint64_t id = hs.faults().add(FaultRule::from_json(request.json_object()));
      return ApiResponse::json(200, {{"id", id}});
    }
    if (segments.size() == 2 && method == "DELETE") {
      hs.faults().clear();
      return ApiResponse::json(200, nlohmann::json::object());
    }
    if (segments.size() == 3 && method == "DELETE") {
      if (!hs.faults().remove(parse_u64(segments[2], "fault id"))) {
        throw not_found("No such fault");
      }
      return ApiResponse::json(200, nlohmann::json::object());
    }
  }
  if (what == "ratelimit") {
    if (method == "GET") {
      return ApiResponse::json(200, hs.rate_limiter().to_json());
    }
    if (method == "POST" || method == "PUT") {
      hs.rate_limiter().apply_json(request.json_object());
      return ApiResponse::json(200, hs.rate_limiter().to_json());
    }
  }
  if (what == "delay") {
    if (method == "POST" || method == "PUT") {
      nlohmann::json body = request.json_object();
      if (!body.contains("ms") || !body["ms"].is_number_integer() || body["ms"].get<int64_t>() < 0) {
        throw invalid_param("ms must be a non-negative integer");
      }
      hs.set_request_delay(std::chrono::milliseconds(body["ms"].get<int64_t>()));
    }
    if (method == "GET" || method == "POST" || method == "PUT") {
      return ApiResponse::json(200, {{"ms", hs.request_delay().count()}});
    }
  }
  if (what == "forks" && segments.size() == 2) {
    if (method == "POST" || method == "PUT") {
      hs.forks().configure(ForkSettings::from_json(request.json_object(), hs.forks().settings()));
    }
    if (method == "GET" || method == "POST" || method == "PUT") {
      return ApiResponse::json(200, hs.forks().settings().to_json());
    }
  }
  if (what == "federation" && segments.size() == 2) {
    if (method == "POST" || method == "PUT") {
      hs.federation().configure(FederationSettings::from_json(request.json_object(), hs.federation().settings()));
    }
    if (method == "GET" || method == "POST" || method == "PUT") {
      return ApiResponse::json(200, hs.federation().settings().to_json());
    }
  }
  if (what == "sync-cache" && method == "DELETE") {
    hs.sync_cache().clear();
    return ApiResponse::json(200, nlohmann::json::object());
  }
  throw MatrixError(404, "M_UNRECOGNIZED", "Unrecognized request");
}

}  // namespace mxsim
