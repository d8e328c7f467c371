#include "tests/support/http_json.h"

#include <httplib.h>

#include <cctype>
#include <cstdio>

namespace testing_support {

std::string JsonAnswer::describe() const {
  if (status == 0) {
    return "no answer: " + error;
  }
  return std::to_string(status) + " " + (body.is_null() ? std::string("(no JSON body)") : body.dump());
}

JsonAnswer http_json(const std::string& base_url, const std::string& method, const std::string& target,
                     const std::string& token, const nlohmann::json& body) {
  std::string base = base_url;
  while (!base.empty() && base.back() == '/') {
    base.pop_back();
  }
  // A client per request: no keep-alive socket lingers in this process for
  // the children it forks (mxctl, the homeserver scripts) to inherit.
  httplib::Client client(base);
  client.set_connection_timeout(10, 0);
  // An invite to an unreachable server waits on Synapse's federation timeout.
  client.set_read_timeout(120, 0);
  client.set_write_timeout(30, 0);
  httplib::Headers headers;
  if (!token.empty()) {
    headers.emplace("Authorization", "Bearer " + token);
  }
  if (method != "GET" && method != "DELETE" && method != "POST" && method != "PUT") {
    JsonAnswer answer;
    answer.error = "unsupported method " + method;
    return answer;
  }
  const std::string payload = body.is_null() ? std::string("{}") : body.dump();
  auto send = [&]() -> httplib::Result {
    if (method == "GET") {
      return client.Get(target, headers);
    }
    if (method == "DELETE") {
      return body.is_null() ? client.Delete(target, headers) : client.Delete(target, headers, payload, "application/json");
    }
    if (method == "POST") {
      return client.Post(target, headers, payload, "application/json");
    }
    return client.Put(target, headers, payload, "application/json");
  };
  httplib::Result result = send();
  JsonAnswer answer;
  if (!result) {
    answer.error = method + " " + target + ": " + httplib::to_string(result.error());
    return answer;
  }
  answer.status = result->status;
  if (!result->body.empty()) {
    answer.body = nlohmann::json::parse(result->body, nullptr, /*allow_exceptions=*/false);
    if (answer.body.is_discarded()) {
      answer.body = nullptr;
    }
  }
  return answer;
}

std::string url_encode(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buffer[4];
      std::snprintf(buffer, sizeof buffer, "%%%02X", c);
      out += buffer;
    }
  }
  return out;
}

}  // namespace testing_support
