#pragma once
// Maps (method, path) to a handler by path template, and names the template
// so the journal can count requests per endpoint rather than per room id.

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "mxsim/request.h"

namespace mxsim {

/// Values of the `{name}` segments of a matched template, decoded.
using PathParams = std::map<std::string, std::string>;
/// Answers one request; may throw MatrixError.
using Handler = std::function<ApiResponse(const ApiRequest&, const PathParams&)>;

/// What Router::match found.
struct RouteMatch {
  enum class Kind { found, wrong_method, not_found };
  Kind kind = Kind::not_found;
  const Handler* handler = nullptr;  ///< set when kind == found
  std::string route;                 ///< "METHOD /template" when found, else "METHOD <unrecognized>"
  PathParams params;
};

/// A list of routes, matched in registration order.
class Router {
 public:
  /// Registers `handler` for `method` and `pattern`. Pattern segments are
  /// literals, `{name}` (one segment) or a final `{name*}` (the rest of the
  /// path joined with '/', possibly empty: state keys may contain '/').
  void add(const std::string& method, const std::string& pattern, Handler handler);
  /// Registers the same handler under both `/_matrix/client/v3` and `/_matrix/client/r0`;
  /// `pattern` is the part after the version.
  void add_client(const std::string& method, const std::string& pattern, Handler handler);
  /// The route for `request`; wrong_method when only the method differs (Synapse answers 405).
  RouteMatch match(const ApiRequest& request) const;

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> parts;
    Handler handler;
  };
  static bool match_parts(const Route& route, const std::vector<std::string>& segments, PathParams& params);
  std::vector<Route> m_routes;
};

}  // namespace mxsim
