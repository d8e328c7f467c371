#include "mxsim/request.h"

#include <algorithm>
#include <cctype>

#include "mxsim/errors.h"

namespace mxsim {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

}  // namespace

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

std::string percent_decode(std::string_view text, bool plus_as_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      int high = hex_value(text[i + 1]);
      int low = hex_value(text[i + 2]);
      if (high >= 0 && low >= 0) {
        out.push_back(static_cast<char>(high * 16 + low));
        i += 2;
        continue;
      }
    }
    if (c == '+' && plus_as_space) {
      out.push_back(' ');
      continue;
    }
    out.push_back(c);
  }
  return out;
}

std::string percent_encode(std::string_view text) {
  static const char* k_hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(k_hex[c >> 4]);
      out.push_back(k_hex[c & 15]);
    }
  }
  return out;
}

ApiRequest make_request(std::string method, std::string_view target, std::map<std::string, std::string> headers,
                        std::string body) {
  ApiRequest request;
  request.method = std::move(method);
  request.body = std::move(body);
  for (auto& [name, value] : headers) {
    request.headers[lower(name)] = value;
  }
  size_t question = target.find('?');
  std::string_view path = target.substr(0, question);
  request.path = std::string(path);
  // Split before decoding so an encoded '/' (%2F) inside a state key or
  // user id stays inside its segment.
  size_t start = path.empty() || path[0] != '/' ? 0 : 1;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) {
      request.segments.push_back(percent_decode(path.substr(start)));
      break;
    }
    request.segments.push_back(percent_decode(path.substr(start, slash - start)));
    start = slash + 1;
  }
  if (question != std::string_view::npos) {
    std::string_view query = target.substr(question + 1);
    size_t pos = 0;
    while (pos <= query.size()) {
      size_t amp = query.find('&', pos);
      std::string_view pair = query.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
      if (!pair.empty()) {
        size_t eq = pair.find('=');
        std::string key = percent_decode(pair.substr(0, eq), true);
        std::string value = eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1), true);
        request.query.emplace(std::move(key), std::move(value));
      }
      if (amp == std::string_view::npos) {
        break;
      }
      pos = amp + 1;
    }
  }
  return request;
}

std::optional<std::string> ApiRequest::query_param(const std::string& name) const {
  auto it = query.find(name);
  if (it == query.end()) {
    return std::nullopt;
  }
  return it->second;
}

std::vector<std::string> ApiRequest::query_params(const std::string& name) const {
  std::vector<std::string> values;
  auto [first, last] = query.equal_range(name);
  for (auto it = first; it != last; ++it) {
    values.push_back(it->second);
  }
  return values;
}

std::optional<std::string> ApiRequest::header(const std::string& name) const {
  auto it = headers.find(lower(name));
  if (it == headers.end()) {
    return std::nullopt;
  }
  return it->second;
}

std::optional<std::string> ApiRequest::access_token() const {
  if (auto authorization = header("authorization")) {
    const std::string prefix = "bearer ";
    if (authorization->size() > prefix.size() && lower(authorization->substr(0, prefix.size())) == prefix) {
      return authorization->substr(prefix.size());
    }
  }
  return query_param("access_token");
}

nlohmann::json ApiRequest::json_object(bool allow_empty) const {
  bool blank = std::all_of(body.begin(), body.end(), [](unsigned char c) { return std::isspace(c); });
  if (blank) {
    if (allow_empty) {
      return nlohmann::json::object();
    }
    throw not_json();
  }
  nlohmann::json parsed = nlohmann::json::parse(body, nullptr, false);
  if (parsed.is_discarded()) {
    throw not_json();
  }
  if (!parsed.is_object()) {
    throw bad_json("Content must be a JSON object.");
  }
  return parsed;
}

ApiResponse ApiResponse::json(int status, nlohmann::json body) {
  ApiResponse response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

}  // namespace mxsim
