#pragma once
// The little of HTTP/1.1 (RFC 9112) the status server speaks: reading one
// request head strictly, and writing one response that closes the
// connection. No bodies are read and no connection is reused, which keeps a
// hostile client's options few.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace controller::telemetry {

/// What the server uses of a request.
struct RequestHead {
  std::string method;  ///< as sent, case-sensitive ("GET")
  std::string path;    ///< the request target without its query ("/metrics")
};

/// Where the head at the start of `received` ends (just past the empty line
/// that closes it, CRLF or bare LF), or nullopt while none has arrived.
std::optional<std::size_t> find_head_end(std::string_view received);

/// Parses a complete request head: `METHOD SP /target SP HTTP/1.x` and
/// `name: value` header lines, each ended by CRLF (or LF). Nullopt when
/// anything is malformed: a method that is not a token, a target that is not
/// an absolute path or holds control, space or non-ASCII bytes, another
/// HTTP version, a header line without a token name and colon, a folded line.
std::optional<RequestHead> parse_request_head(std::string_view head);

/// One response; the server always closes the connection after it.
struct HttpResponse {
  /// The status code; its reason phrase comes from serialize().
  int status = 200;
  /// Headers besides Content-Length and Connection, which serialize() adds.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

/// The bytes on the wire: status line, headers, `Content-Length` of the
/// body, `Connection: close`, then the body unless `with_body` is false (the
/// answer to HEAD keeps the length of the body it leaves out).
std::string serialize(const HttpResponse& response, bool with_body);

}  // namespace controller::telemetry
