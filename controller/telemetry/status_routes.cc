#include "controller/telemetry/status_routes.h"

#include <exception>

namespace controller::telemetry {
namespace {

// The content type Prometheus expects for the 0.0.4 text format.
constexpr const char* k_metrics_type = "text/plain; version=0.0.4; charset=utf-8";

HttpResponse route(const std::string& path, const StatusSources& sources) {
  if (path == "/healthz") {
    // Answering at all is the proof of life: the server thread runs.
    return plain_response(200, "ok\n");
  }
  if (path == "/readyz") {
    const auto not_ready = sources.readiness ? sources.readiness() : std::nullopt;
    return not_ready ? plain_response(503, *not_ready + "\n") : plain_response(200, "ready\n");
  }
  HttpResponse response{200, {{"Content-Type", k_metrics_type}}, {}};
  if (sources.metrics) {
    response.body = sources.metrics();
  }
  return response;
}

}  // namespace

HttpResponse plain_response(int status, std::string body) {
  return HttpResponse{status, {{"Content-Type", "text/plain; charset=utf-8"}}, std::move(body)};
}

HttpResponse answer(const RequestHead& request, const StatusSources& sources) {
  if (request.path != "/metrics" && request.path != "/healthz" && request.path != "/readyz") {
    return plain_response(404, "not found\n");
  }
  if (request.method != "GET" && request.method != "HEAD") {
    HttpResponse response = plain_response(405, "method not allowed\n");
    response.headers.emplace_back("Allow", "GET, HEAD");
    return response;
  }
  try {
    return route(request.path, sources);
  } catch (const std::exception& error) {
    return plain_response(500, std::string("internal error: ") + error.what() + "\n");
  } catch (...) {
    return plain_response(500, "internal error\n");
  }
}

}  // namespace controller::telemetry
