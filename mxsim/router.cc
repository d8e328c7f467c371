#include "mxsim/router.h"

namespace mxsim {

namespace {

std::vector<std::string> split_pattern(const std::string& pattern) {
  std::vector<std::string> parts;
  size_t start = 1;
  while (start <= pattern.size()) {
    size_t slash = pattern.find('/', start);
    if (slash == std::string::npos) {
      parts.push_back(pattern.substr(start));
      break;
    }
    parts.push_back(pattern.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

bool is_param(const std::string& part) { return part.size() > 2 && part.front() == '{' && part.back() == '}'; }

}  // namespace

void Router::add(const std::string& method, const std::string& pattern, Handler handler) {
  m_routes.push_back(Route{method, pattern, split_pattern(pattern), std::move(handler)});
}

void Router::add_client(const std::string& method, const std::string& pattern, Handler handler) {
  add(method, "/_matrix/client/v3" + pattern, handler);
  add(method, "/_matrix/client/r0" + pattern, std::move(handler));
}

bool Router::match_parts(const Route& route, const std::vector<std::string>& segments, PathParams& params) {
  const auto& parts = route.parts;
  size_t i = 0;
  for (; i < parts.size(); ++i) {
    const std::string& part = parts[i];
    if (is_param(part) && part[part.size() - 2] == '*') {
      // A trailing wildcard takes whatever is left, including nothing.
      std::string rest;
      for (size_t j = i; j < segments.size(); ++j) {
        if (j > i) {
          rest += '/';
        }
        rest += segments[j];
      }
      params[part.substr(1, part.size() - 3)] = rest;
      return true;
    }
    if (i >= segments.size()) {
      return false;
    }
    if (is_param(part)) {
      if (segments[i].empty()) {
        return false;
      }
      params[part.substr(1, part.size() - 2)] = segments[i];
    } else if (part != segments[i]) {
      return false;
    }
  }
  return i == segments.size();
}

RouteMatch Router::match(const ApiRequest& request) const {
  RouteMatch result;
  for (const Route& route : m_routes) {
    PathParams params;
    if (!match_parts(route, request.segments, params)) {
      continue;
    }
    if (route.method != request.method) {
      result.kind = RouteMatch::Kind::wrong_method;
      continue;
    }
    result.kind = RouteMatch::Kind::found;
    result.handler = &route.handler;
    result.route = route.method + " " + route.pattern;
    result.params = std::move(params);
    return result;
  }
  result.route = request.method + " <unrecognized>";
  return result;
}

}  // namespace mxsim
