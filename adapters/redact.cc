#include "adapters/redact.h"

#include <regex>

namespace adapters {

namespace {

constexpr std::string_view k_replacement = "<redacted>";

void replace_all(std::string& text, std::string_view needle) {
  for (std::size_t pos = text.find(needle); pos != std::string::npos;
       pos = text.find(needle, pos + k_replacement.size())) {
    text.replace(pos, needle.size(), k_replacement);
  }
}

}  // namespace

std::string redact(std::string text, const std::vector<std::string>& secrets) {
  for (const std::string& secret : secrets) {
    if (!secret.empty()) {
      replace_all(text, secret);
    }
  }
  // Tokens we were not told about (an appservice token in a URL, say) are
  // still hidden when they travel as the conventional query parameter.
  constexpr std::string_view k_param = "access_token=";
  for (std::size_t pos = text.find(k_param); pos != std::string::npos; pos = text.find(k_param, pos + 1)) {
    std::size_t start = pos + k_param.size();
    std::size_t end = text.find_first_of("&# \t\r\n\"'", start);
    if (end == std::string::npos) {
      end = text.size();
    }
    if (text.compare(start, end - start, k_replacement) != 0) {
      text.replace(start, end - start, k_replacement);
    }
  }
  // A URL's user-info is a password by another name: "user:secret@" keeps
  // the user, as database URIs do; "secret@" (a token, maybe) goes whole.
  for (std::size_t pos = text.find("://"); pos != std::string::npos; pos = text.find("://", pos + 3)) {
    const std::size_t authority = pos + 3;
    std::size_t end = text.find_first_of("/?# \t\r\n\"'", authority);
    if (end == std::string::npos) {
      end = text.size();
    }
    const std::size_t at = text.rfind('@', end == 0 ? 0 : end - 1);
    if (at == std::string::npos || at < authority) {
      continue;
    }
    const std::size_t colon = text.find(':', authority);
    const std::size_t start = colon < at ? colon + 1 : authority;
    if (text.compare(start, at - start, k_replacement) != 0) {
      text.replace(start, at - start, k_replacement);
    }
  }
  return text;
}

std::string redact_database_uri(const std::string& uri) {
  // URI form: scheme://user:password@host/...
  static const std::regex userinfo(R"(^([a-z]+://[^:/@?#]*):[^@/?#]*@)");
  std::string out = std::regex_replace(uri, userinfo, "$1:<redacted>@", std::regex_constants::format_first_only);
  // Query parameter (URI) or keyword (conninfo): password=..., quoted or not.
  static const std::regex keyword(R"((password\s*=\s*)('(\\.|[^'])*'|[^\s&]*))", std::regex::icase);
  return std::regex_replace(out, keyword, "$1<redacted>");
}

std::string strip_database_password(const std::string& uri) {
  static const std::regex userinfo(R"(^([a-z]+://[^:/@?#]*):[^@/?#]*@)");
  std::string out = std::regex_replace(uri, userinfo, "$1@", std::regex_constants::format_first_only);
  // URI query parameter: drop it with one of its separators.
  static const std::regex first_param(R"(\?password=[^&]*(&|$))", std::regex::icase);
  out = std::regex_replace(out, first_param, "?");
  static const std::regex later_param(R"(&password=[^&]*)", std::regex::icase);
  out = std::regex_replace(out, later_param, "");
  if (!out.empty() && out.back() == '?') {
    out.pop_back();
  }
  // conninfo keyword, quoted or not, with the space after it.
  static const std::regex keyword(R"(password\s*=\s*('(\\.|[^'])*'|[^\s']\S*)\s*)", std::regex::icase);
  out = std::regex_replace(out, keyword, "");
  while (!out.empty() && out.back() == ' ') {
    out.pop_back();
  }
  return out;
}

}  // namespace adapters
