#pragma once
// The HTTP request and response as the simulator sees them, independent of
// cpp-httplib: the Server converts to and from these, and in-process callers
// can build them directly.

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mxsim {

/// One incoming request with its path already split into decoded segments.
struct ApiRequest {
  std::string method;                              ///< "GET", "PUT", ...
  std::string path;                                ///< the raw (still encoded) path, no query
  std::vector<std::string> segments;               ///< path split at '/', each percent-decoded
  std::multimap<std::string, std::string> query;   ///< decoded query parameters
  std::map<std::string, std::string> headers;      ///< header names lower-cased
  std::string body;

  /// The first value of query parameter `name`, or nullopt.
  std::optional<std::string> query_param(const std::string& name) const;
  /// Every value of query parameter `name`, in order.
  std::vector<std::string> query_params(const std::string& name) const;
  /// Header `name` (case-insensitive), or nullopt.
  std::optional<std::string> header(const std::string& name) const;
  /// The access token from `Authorization: Bearer` or `?access_token=`; nullopt when neither.
  std::optional<std::string> access_token() const;
  /// The body as a JSON object, the way Synapse parses it: an empty body is
  /// `{}` when `allow_empty`, otherwise 400 M_NOT_JSON; unparsable is 400
  /// M_NOT_JSON; valid JSON that is not an object is 400 M_BAD_JSON.
  nlohmann::json json_object(bool allow_empty = false) const;
};

/// Builds a request from a raw target ("/path?query") as received on the wire.
ApiRequest make_request(std::string method, std::string_view target, std::map<std::string, std::string> headers = {},
                        std::string body = "");

/// One answer: status, JSON body, extra headers, or a dropped connection.
struct ApiResponse {
  int status = 200;
  nlohmann::json body = nlohmann::json::object();
  std::vector<std::pair<std::string, std::string>> headers;
  bool drop_connection = false;  ///< fault injection: close without a complete answer

  /// A response with `status` and `body`.
  static ApiResponse json(int status, nlohmann::json body);
};

/// Decodes %XX escapes (and '+' as space when `plus_as_space`); malformed escapes are kept verbatim.
std::string percent_decode(std::string_view text, bool plus_as_space = false);

/// `text` with its ASCII letters lower-cased (header names, user ids).
std::string lower(std::string text);
/// Encodes everything except unreserved characters, for building outgoing URLs.
std::string percent_encode(std::string_view text);

}  // namespace mxsim
