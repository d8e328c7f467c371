#include "bench/loop_http.h"

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "adapters/homeserver/matrix_client.h"

namespace bench {

namespace {

std::unique_ptr<httplib::Client> client_for(const std::string& url) {
  auto client = std::make_unique<httplib::Client>(url);
  client->set_keep_alive(true);
  client->set_connection_timeout(10, 0);
  client->set_read_timeout(30, 0);
  return client;
}

std::string name_path(const std::string& room_id) {
  return "/_matrix/client/v3/rooms/" + adapters::encode_path_segment(room_id) + "/state/m.room.name/";
}

// The sum of every sample of `name` (any labels) in Prometheus text.
double sum_of(const std::string& text, const std::string& name) {
  double sum = 0;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(name, 0) != 0 || line.size() <= name.size() ||
        (line[name.size()] != '{' && line[name.size()] != ' ')) {
      continue;
    }
    sum += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return sum;
}

}  // namespace

BotClient::BotClient(const std::string& url, const std::string& token)
    : m_client(client_for(url)), m_token(token) {}

BotClient::~BotClient() = default;

std::string BotClient::resolve(const std::string& alias) {
  auto got = m_client->Get("/_matrix/client/v3/directory/room/" + adapters::encode_path_segment(alias),
                           {{"Authorization", "Bearer " + m_token}});
  if (!got || got->status != 200) {
    throw std::runtime_error("the alias " + alias + " does not resolve");
  }
  return nlohmann::json::parse(got->body).value("room_id", "");
}

std::string BotClient::room_name(const std::string& room_id) {
  auto got = m_client->Get(name_path(room_id), {{"Authorization", "Bearer " + m_token}});
  if (!got || got->status != 200) {
    return "";
  }
  const nlohmann::json body = nlohmann::json::parse(got->body, nullptr, false);
  return body.is_object() ? body.value("name", "") : "";
}

void BotClient::set_room_name(const std::string& room_id, const std::string& name) {
  auto put = m_client->Put(name_path(room_id), {{"Authorization", "Bearer " + m_token}},
                           nlohmann::json{{"name", name}}.dump(), "application/json");
  if (!put || put->status != 200) {
    throw std::runtime_error("renaming " + room_id + " failed" +
                             (put ? ": " + std::to_string(put->status) + " " + put->body : std::string()));
  }
}

StatusClient::StatusClient(const std::string& url) : m_client(client_for(url)) {}

StatusClient::~StatusClient() = default;

bool StatusClient::ready() {
  auto got = m_client->Get("/readyz");
  return got && got->status == 200;
}

LoopCounters StatusClient::counters() {
  auto got = m_client->Get("/metrics");
  if (!got || got->status != 200) {
    throw std::runtime_error("mxctl run: GET /metrics failed");
  }
  return {sum_of(got->body, "mxctl_homeserver_requests_total"), sum_of(got->body, "mxctl_passes_total")};
}

}  // namespace bench
