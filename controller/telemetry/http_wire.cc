#include "controller/telemetry/http_wire.h"

namespace controller::telemetry {
namespace {

// RFC 9110 tchar: the characters of methods and header names.
bool is_token_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
    return true;
  }
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view text) {
  if (text.empty()) {
    return false;
  }
  for (char c : text) {
    if (!is_token_char(c)) {
      return false;
    }
  }
  return true;
}

// Origin-form only (what scrapers and probes send): visible ASCII from '/'.
bool is_origin_target(std::string_view target) {
  if (target.empty() || target.front() != '/') {
    return false;
  }
  for (char c : target) {
    if (c <= ' ' || c > '~') {
      return false;
    }
  }
  return true;
}

// Field values may hold visible characters, spaces, tabs and obs-text; never
// control characters (a stray CR or NUL is how header smuggling starts).
bool is_field_value(std::string_view value) {
  for (char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\t') || byte == 0x7f) {
      return false;
    }
  }
  return true;
}

bool is_header_line(std::string_view line) {
  const auto colon = line.find(':');
  return colon != std::string_view::npos && is_token(line.substr(0, colon)) && is_field_value(line.substr(colon + 1));
}

const char* reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

}  // namespace

std::optional<std::size_t> find_head_end(std::string_view received) {
  for (auto newline = received.find('\n'); newline != std::string_view::npos;
       newline = received.find('\n', newline + 1)) {
    const std::string_view after = received.substr(newline + 1);
    if (after.starts_with("\n")) {
      return newline + 2;
    }
    if (after.starts_with("\r\n")) {
      return newline + 3;
    }
  }
  return std::nullopt;
}

std::optional<RequestHead> parse_request_head(std::string_view head) {
  std::vector<std::string_view> lines;
  while (!head.empty()) {
    const auto newline = head.find('\n');
    if (newline == std::string_view::npos) {
      return std::nullopt;  // not ended by a line feed: not a complete head
    }
    std::string_view line = head.substr(0, newline);
    if (line.ends_with('\r')) {
      line.remove_suffix(1);
    }
    lines.push_back(line);
    head.remove_prefix(newline + 1);
  }
  if (lines.size() < 2 || !lines.back().empty()) {
    return std::nullopt;
  }
  const std::string_view request_line = lines.front();
  const auto first_space = request_line.find(' ');
  const auto last_space = request_line.rfind(' ');
  if (first_space == std::string_view::npos || first_space == last_space) {
    return std::nullopt;
  }
  const std::string_view method = request_line.substr(0, first_space);
  const std::string_view target = request_line.substr(first_space + 1, last_space - first_space - 1);
  const std::string_view version = request_line.substr(last_space + 1);
  if (!is_token(method) || !is_origin_target(target) || (version != "HTTP/1.1" && version != "HTTP/1.0")) {
    return std::nullopt;
  }
  for (std::size_t i = 1; i + 1 < lines.size(); ++i) {
    if (!is_header_line(lines[i])) {
      return std::nullopt;
    }
  }
  return RequestHead{std::string(method), std::string(target.substr(0, target.find('?')))};
}

std::string serialize(const HttpResponse& response, bool with_body) {
  std::string out = "HTTP/1.1 " + std::to_string(response.status) + " " + reason_phrase(response.status) + "\r\n";
  for (const auto& [name, value] : response.headers) {
    out += name + ": " + value + "\r\n";
  }
  out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
  out += "Connection: close\r\n\r\n";
  if (with_body) {
    out += response.body;
  }
  return out;
}

}  // namespace controller::telemetry
