#pragma once
// What each path of the status server answers, apart from any socket:
// /metrics, /healthz and /readyz for GET and HEAD.

#include <functional>
#include <optional>
#include <string>

#include "controller/telemetry/http_wire.h"

namespace controller::telemetry {

/// Where the answers come from. Called on the server's thread, one request
/// at a time, while the rest of the process goes on: both must be
/// thread-safe. An exception thrown by either becomes a 500.
struct StatusSources {
  /// The body of /metrics in the text exposition format 0.0.4 (typically
  /// MetricsRegistry::render). Empty function: an empty exposition.
  std::function<std::string()> metrics;
  /// Nullopt when ready; otherwise why not, sent with a 503 on /readyz.
  /// Empty function: always ready.
  std::function<std::optional<std::string>()> readiness;
};

/// The answer to `request`: 200 on the three paths for GET and HEAD (the
/// caller leaves out the body for HEAD), 503 from /readyz when not ready,
/// 404 on any other path, 405 with `Allow: GET, HEAD` for other methods.
HttpResponse answer(const RequestHead& request, const StatusSources& sources);

/// A plain-text answer with `status` and `body` (a line of explanation).
HttpResponse plain_response(int status, std::string body);

}  // namespace controller::telemetry
