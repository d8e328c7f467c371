#include "model/matrix_ids.h"

#include <cstdio>

#include "model/limits.h"

namespace model {

namespace {

constexpr std::size_t k_max_user_id_bytes = k_max_identifier_bytes;
constexpr std::size_t k_max_dns_name = 255;
constexpr std::size_t k_min_ipv6 = 2;
constexpr std::size_t k_max_ipv6 = 45;
constexpr std::size_t k_max_port_digits = 5;
constexpr long k_max_port = 65535;
constexpr std::string_view k_mxc_scheme = "mxc://";

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// Shows an offending character so that a reader can find it: printable ASCII
// as itself in quotes, anything else (control bytes, UTF-8) as its byte value,
// because printing half a multi-byte sequence would garble the message.
std::string describe(char c) {
  auto byte = static_cast<unsigned char>(c);
  if (c == '"') {
    return "'\"'";
  }
  if (byte >= 0x20 && byte < 0x7f) {
    return std::string("\"") + c + "\"";
  }
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "byte 0x%02X", static_cast<unsigned>(byte));
  return buffer;
}

// The first character of `text` rejected by `allowed`, as a reason.
template <typename Allowed>
std::optional<std::string> first_invalid(std::string_view text, Allowed allowed, std::string_view allowed_text) {
  for (char c : text) {
    if (!allowed(c)) {
      return "contains " + describe(c) + "; only " + std::string(allowed_text) + " are allowed";
    }
  }
  return std::nullopt;
}

bool is_current_localpart_char(char c) {
  return is_lower(c) || is_digit(c) || c == '.' || c == '_' || c == '=' || c == '-' || c == '/' || c == '+';
}

// The spec's extended_user_id_char: %x21-39 / %x3B-7E, i.e. printable ASCII
// without space and ":".
bool is_historical_localpart_char(char c) {
  auto byte = static_cast<unsigned char>(c);
  return byte >= 0x21 && byte <= 0x7e && c != ':';
}

bool is_dns_char(char c) { return is_digit(c) || is_lower(c) || is_upper(c) || c == '-' || c == '.'; }

std::optional<std::string> check_port(std::string_view port) {
  if (port.empty()) {
    return "port must not be empty";
  }
  for (char c : port) {
    if (!is_digit(c)) {
      return "port must be a number, got \"" + std::string(port) + "\"";
    }
  }
  if (port.size() > k_max_port_digits || std::stol(std::string(port)) > k_max_port) {
    return "port must be at most " + std::to_string(k_max_port);
  }
  return std::nullopt;
}

std::optional<std::string> check_ipv6_literal(std::string_view server_name) {
  std::size_t close = server_name.find(']');
  if (close == std::string_view::npos) {
    return "has \"[\" without a closing \"]\"";
  }
  std::string_view address = server_name.substr(1, close - 1);
  if (address.size() < k_min_ipv6 || address.size() > k_max_ipv6) {
    return "IPv6 address must be 2 to 45 characters";
  }
  for (char c : address) {
    if (!is_hex(c) && c != ':' && c != '.') {
      return "IPv6 address contains " + describe(c);
    }
  }
  std::string_view rest = server_name.substr(close + 1);
  if (rest.empty()) {
    return std::nullopt;
  }
  if (rest.front() != ':') {
    return "unexpected " + describe(rest.front()) + " after \"]\"";
  }
  return check_port(rest.substr(1));
}

}  // namespace

std::optional<std::string> check_localpart(std::string_view localpart, UserIdGrammar grammar) {
  if (localpart.empty()) {
    return "must not be empty";
  }
  if (grammar == UserIdGrammar::historical) {
    return first_invalid(localpart, is_historical_localpart_char, "printable ASCII characters other than \":\"");
  }
  return first_invalid(localpart, is_current_localpart_char, "a-z, 0-9, \".\", \"_\", \"=\", \"-\", \"/\" and \"+\"");
}

std::optional<std::string> check_server_name(std::string_view server_name) {
  if (server_name.empty()) {
    return "must not be empty";
  }
  if (server_name.front() == '[') {
    return check_ipv6_literal(server_name);
  }
  // A DNS name or IPv4 address never contains ":", so the first one starts
  // the port. The IPv4 form is a special case of the DNS-name characters.
  std::size_t colon = server_name.find(':');
  std::string_view host = server_name.substr(0, colon);
  if (host.empty()) {
    return "host name must not be empty";
  }
  if (host.size() > k_max_dns_name) {
    return "host name is longer than 255 characters";
  }
  if (auto problem = first_invalid(host, is_dns_char, "letters, digits, \"-\" and \".\"")) {
    return problem;
  }
  if (colon == std::string_view::npos) {
    return std::nullopt;
  }
  return check_port(server_name.substr(colon + 1));
}

std::optional<std::string> check_user_id(std::string_view user_id, UserIdGrammar grammar) {
  if (user_id.empty()) {
    return "must not be empty";
  }
  if (user_id.size() > k_max_user_id_bytes) {
    return "is longer than 255 bytes";
  }
  if (user_id.front() != '@') {
    return "must start with \"@\"";
  }
  std::size_t colon = user_id.find(':');
  if (colon == std::string_view::npos) {
    return "must have the form \"@localpart:server_name\"";
  }
  if (auto problem = check_localpart(user_id.substr(1, colon - 1), grammar)) {
    return "localpart " + *problem;
  }
  if (auto problem = check_server_name(user_id.substr(colon + 1))) {
    return "server name " + *problem;
  }
  return std::nullopt;
}

std::optional<std::string> check_mxc_uri(std::string_view uri) {
  if (!uri.starts_with(k_mxc_scheme)) {
    return "must start with \"mxc://\"";
  }
  std::string_view rest = uri.substr(k_mxc_scheme.size());
  std::size_t slash = rest.find('/');
  if (slash == std::string_view::npos) {
    return "must have the form \"mxc://<server-name>/<media-id>\"";
  }
  if (auto problem = check_server_name(rest.substr(0, slash))) {
    return "server name " + *problem;
  }
  std::string_view media_id = rest.substr(slash + 1);
  if (media_id.empty()) {
    return "media id must not be empty";
  }
  auto is_media_char = [](char c) { return is_digit(c) || is_lower(c) || is_upper(c) || c == '_' || c == '-'; };
  if (auto problem = first_invalid(media_id, is_media_char, "A-Z, a-z, 0-9, \"_\" and \"-\"")) {
    return "media id " + *problem;
  }
  return std::nullopt;
}

std::optional<std::string> check_key(std::string_view key) {
  if (key.empty()) {
    return "must not be empty";
  }
  auto is_key_char = [](char c) { return is_lower(c) || is_digit(c) || c == '-'; };
  if (!is_lower(key.front()) && !is_digit(key.front())) {
    return "must start with a lower-case letter or digit, got " + describe(key.front());
  }
  return first_invalid(key, is_key_char, "a-z, 0-9 and \"-\"");
}

}  // namespace model
