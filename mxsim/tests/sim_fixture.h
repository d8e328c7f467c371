#pragma once
// Test helper for mxsim suites: a Server on a free loopback port plus a small
// JSON-over-HTTP client, so every test drives the simulator over real HTTP.
// Header-only because only *_test.cc files are compiled into the suite.

#include <httplib.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "mxsim/errors.h"
#include "mxsim/homeserver.h"
#include "mxsim/request.h"
#include "mxsim/server.h"

namespace mxsim_test {

/// One HTTP answer, body parsed as JSON (null when empty or not JSON).
struct Reply {
  int status = 0;  ///< 0 when the connection failed
  nlohmann::json body;
  httplib::Headers headers;

  /// body["errcode"] or "".
  std::string errcode() const { return body.is_object() ? body.value("errcode", "") : ""; }
  /// body["error"] or "".
  std::string error() const { return body.is_object() ? body.value("error", "") : ""; }
};

/// Percent-encodes one path segment (room ids, aliases, user ids).
inline std::string enc(const std::string& text) { return mxsim::percent_encode(text); }

/// A running simulator and a client for it.
class Sim {
 public:
  explicit Sim(const std::string& server_name = "mxsim.test")
      : m_server(mxsim::ServerOptions{server_name, "127.0.0.1", 0}) {
    m_server.start();
    m_client = std::make_unique<httplib::Client>("127.0.0.1", m_server.port());
    m_client->set_read_timeout(30, 0);
    m_client->set_tcp_nodelay(true);
  }

  mxsim::Server& server() { return m_server; }
  mxsim::Homeserver& hs() { return m_server.homeserver(); }
  const std::string& name() { return m_server.homeserver().server_name(); }

  /// Creates `localpart` and returns a fresh access token for it.
  std::string user(const std::string& localpart, bool admin = false) {
    std::string user_id = hs().add_user(localpart, "pw-" + localpart, admin);
    return hs().issue_token(user_id);
  }
  /// "@localpart:server".
  std::string id(const std::string& localpart) { return "@" + localpart + ":" + name(); }

  /// Sends one request; `body` "" means none.
  Reply raw(const std::string& method, const std::string& path, const std::string& token, const std::string& body,
            const std::string& content_type = "application/json") {
    httplib::Headers headers;
    if (!token.empty()) {
      headers.emplace("Authorization", "Bearer " + token);
    }
    auto send = [&]() -> httplib::Result {
      if (method == "POST") {
        return m_client->Post(path.c_str(), headers, body, content_type.c_str());
      }
      if (method == "PUT") {
        return m_client->Put(path.c_str(), headers, body, content_type.c_str());
      }
      if (method == "DELETE") {
        return body.empty() ? m_client->Delete(path.c_str(), headers)
                            : m_client->Delete(path.c_str(), headers, body, content_type.c_str());
      }
      return m_client->Get(path.c_str(), headers);
    };
    httplib::Result result = send();
    Reply reply;
    if (!result) {
      return reply;
    }
    reply.status = result->status;
    reply.headers = result->headers;
    reply.body = nlohmann::json::parse(result->body, nullptr, false);
    if (reply.body.is_discarded()) {
      reply.body = nullptr;
    }
    return reply;
  }
  Reply get(const std::string& path, const std::string& token = "") { return raw("GET", path, token, ""); }
  Reply post(const std::string& path, const std::string& token, const nlohmann::json& body = nlohmann::json::object()) {
    return raw("POST", path, token, body.dump());
  }
  Reply put(const std::string& path, const std::string& token, const nlohmann::json& body) {
    return raw("PUT", path, token, body.dump());
  }
  Reply del(const std::string& path, const std::string& token, const std::string& body = "") {
    return raw("DELETE", path, token, body);
  }

  /// POST /createRoom; returns the room id (empty when refused).
  std::string create_room(const std::string& token, const nlohmann::json& body = nlohmann::json::object()) {
    Reply reply = post("/_matrix/client/v3/createRoom", token, body);
    return reply.status == 200 ? reply.body.value("room_id", "") : "";
  }
  /// Client path for a room: "/_matrix/client/v3/rooms/<id><rest>".
  static std::string room_path(const std::string& room_id, const std::string& rest) {
    return "/_matrix/client/v3/rooms/" + enc(room_id) + rest;
  }
  /// PUT a state event; returns the reply.
  Reply put_state(const std::string& token, const std::string& room_id, const std::string& type,
                  const std::string& key, const nlohmann::json& content) {
    return put(room_path(room_id, "/state/" + type + "/" + enc(key)), token, content);
  }
  /// GET a state event's content.
  Reply get_state(const std::string& token, const std::string& room_id, const std::string& type,
                  const std::string& key = "") {
    return get(room_path(room_id, "/state/" + type + "/" + enc(key)), token);
  }
  /// POST a membership action ("invite", "kick", ...) with {"user_id": target}.
  Reply member_action(const std::string& token, const std::string& room_id, const std::string& action,
                      const std::string& target) {
    return post(room_path(room_id, "/" + action), token, {{"user_id", target}});
  }
  /// POST /rooms/{id}/join.
  Reply join(const std::string& token, const std::string& room_id) {
    return post(room_path(room_id, "/join"), token);
  }

 private:
  mxsim::Server m_server;
  std::unique_ptr<httplib::Client> m_client;
};

}  // namespace mxsim_test
