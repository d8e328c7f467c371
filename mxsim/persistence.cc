#include "mxsim/persistence.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include "mxsim/homeserver.h"

namespace mxsim {

namespace {

nlohmann::json optional_json(const std::optional<std::string>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json();
}

std::optional<std::string> optional_string(const nlohmann::json& json, const char* key) {
  if (!json.contains(key) || json.at(key).is_null()) {
    return std::nullopt;
  }
  return json.at(key).get<std::string>();
}

nlohmann::json user_json(const User& user) {
  nlohmann::json room_data = nlohmann::json::object();
  for (const auto& [room_id, types] : user.room_account_data) {
    room_data[room_id] = types;
  }
  nlohmann::json json = {{"user_id", user.user_id},
                         {"password", user.password},
                         {"admin", user.admin},
                         {"deactivated", user.deactivated},
                         {"suspended", user.suspended},
                         {"locked", user.locked},
                         {"shadow_banned", user.shadow_banned},
                         {"erased", user.erased},
                         {"displayname", optional_json(user.displayname)},
                         {"avatar_url", optional_json(user.avatar_url)},
                         {"user_type", optional_json(user.user_type)},
                         {"appservice_id", user.appservice_id},
                         {"creation_ts_ms", user.creation_ts_ms},
                         {"threepids", user.threepids},
                         {"external_ids", user.external_ids},
                         {"account_data", user.account_data},
                         {"account_data_stream", user.account_data_stream},
                         {"room_account_data", room_data}};
  if (user.ratelimit_override) {
    json["ratelimit_override"] = {{"messages_per_second", user.ratelimit_override->messages_per_second},
                                  {"burst_count", user.ratelimit_override->burst_count}};
  }
  return json;
}

User user_from_json(const nlohmann::json& json) {
  User user;
  user.user_id = json.at("user_id").get<std::string>();
  user.password = json.value("password", "");
  user.admin = json.value("admin", false);
  user.deactivated = json.value("deactivated", false);
  user.suspended = json.value("suspended", false);
  user.locked = json.value("locked", false);
  user.shadow_banned = json.value("shadow_banned", false);
  user.erased = json.value("erased", false);
  user.displayname = optional_string(json, "displayname");
  user.avatar_url = optional_string(json, "avatar_url");
  user.user_type = optional_string(json, "user_type");
  user.appservice_id = json.value("appservice_id", "");
  user.creation_ts_ms = json.value("creation_ts_ms", int64_t{0});
  user.threepids = json.value("threepids", nlohmann::json::array());
  user.external_ids = json.value("external_ids", nlohmann::json::array());
  if (json.contains("account_data")) {
    user.account_data = json.at("account_data").get<std::map<std::string, nlohmann::json>>();
  }
  if (json.contains("account_data_stream")) {
    user.account_data_stream = json.at("account_data_stream").get<std::map<std::string, int64_t>>();
  }
  if (json.contains("room_account_data")) {
    for (auto it = json.at("room_account_data").begin(); it != json.at("room_account_data").end(); ++it) {
      user.room_account_data[it.key()] = it.value().get<std::map<std::string, nlohmann::json>>();
    }
  }
  if (json.contains("ratelimit_override")) {
    const auto& value = json.at("ratelimit_override");
    user.ratelimit_override =
        RateOverride{value.at("messages_per_second").get<int64_t>(), value.at("burst_count").get<int64_t>()};
  }
  return user;
}

}  // namespace

nlohmann::json save_state(const ServerState& state) {
  nlohmann::json users = nlohmann::json::array();
  for (const auto& [id, user] : state.users) {
    users.push_back(user_json(user));
  }
  nlohmann::json tokens = nlohmann::json::object();
  for (const auto& [token, access] : state.tokens) {
    nlohmann::json entry = {{"user_id", access.user_id}, {"device_id", access.device_id}, {"puppet", access.puppet}};
    if (access.valid_until_ms) {
      entry["valid_until_ms"] = *access.valid_until_ms;
    }
    tokens[token] = entry;
  }
  nlohmann::json rooms = nlohmann::json::array();
  for (const auto& [room_id, room] : state.rooms) {
    nlohmann::json events = nlohmann::json::array();
    for (const auto& event : room->events()) {
      events.push_back(event.to_storage());
    }
    rooms.push_back({{"room_id", room_id},
                     {"version", room->version()},
                     {"published", room->published()},
                     {"events", events}});
  }
  nlohmann::json aliases = nlohmann::json::object();
  for (const auto& [alias, entry] : state.aliases) {
    aliases[alias] = {{"room_id", entry.room_id}, {"creator", entry.creator}};
  }
  nlohmann::json tasks = nlohmann::json::array();
  for (const auto& [id, task] : state.delete_tasks) {
    tasks.push_back({{"delete_id", task.delete_id},
                     {"room_id", task.room_id},
                     {"status", task.status},
                     {"shutdown_room", task.shutdown_room}});
  }
  return {{"format_version", 1},
          {"server_name", state.server_name},
          {"stream", state.stream},
          {"next_filter_id", state.next_filter_id},
          {"appservice_txn_last", state.appservice_txn_last},
          {"users", users},
          {"tokens", tokens},
          {"rooms", rooms},
          {"aliases", aliases},
          {"filters", state.filters},
          {"transactions", state.transactions},
          {"delete_tasks", tasks},
          {"blocked_rooms", state.blocked_rooms}};
}

void load_state(ServerState& state, const nlohmann::json& json) {
  try {
    if (json.value("format_version", 0) != 1) {
      throw std::runtime_error("unsupported state file format_version");
    }
    std::string server_name = json.at("server_name").get<std::string>();
    if (server_name != state.server_name) {
      throw std::runtime_error("state file is for server '" + server_name + "', not '" + state.server_name + "'");
    }
    state.users.clear();
    for (const auto& entry : json.at("users")) {
      User user = user_from_json(entry);
      state.users[user.user_id] = std::move(user);
    }
    state.tokens.clear();
    for (auto it = json.at("tokens").begin(); it != json.at("tokens").end(); ++it) {
      AccessToken access;
      access.user_id = it.value().at("user_id").get<std::string>();
      access.device_id = it.value().value("device_id", "");
      access.puppet = it.value().value("puppet", false);
      if (it.value().contains("valid_until_ms")) {
        access.valid_until_ms = it.value().at("valid_until_ms").get<int64_t>();
      }
      state.tokens[it.key()] = access;
    }
    state.rooms.clear();
    for (const auto& entry : json.at("rooms")) {
      auto room = std::make_unique<Room>(entry.at("room_id").get<std::string>(), entry.at("version").get<std::string>());
      room->set_published(entry.value("published", false));
      for (const auto& event : entry.at("events")) {
        // Appended as stored: the auth rules passed when they were created.
        room->append(Event::from_storage(event));
      }
      state.rooms[room->room_id()] = std::move(room);
    }
    state.aliases.clear();
    for (auto it = json.at("aliases").begin(); it != json.at("aliases").end(); ++it) {
      state.aliases[it.key()] = AliasEntry{it.value().at("room_id").get<std::string>(),
                                           it.value().value("creator", "")};
    }
    state.filters = json.value("filters", nlohmann::json::object()).get<std::map<std::string, nlohmann::json>>();
    state.transactions =
        json.value("transactions", nlohmann::json::object()).get<std::map<std::string, std::string>>();
    state.delete_tasks.clear();
    for (const auto& entry : json.value("delete_tasks", nlohmann::json::array())) {
      DeleteTask task;
      task.delete_id = entry.at("delete_id").get<std::string>();
      task.room_id = entry.at("room_id").get<std::string>();
      task.status = entry.value("status", "complete");
      task.shutdown_room = entry.value("shutdown_room", nlohmann::json::object());
      state.delete_tasks[task.delete_id] = std::move(task);
    }
    state.blocked_rooms = json.value("blocked_rooms", nlohmann::json::array()).get<std::set<std::string>>();
    state.stream = json.at("stream").get<int64_t>();
    state.next_filter_id = json.value("next_filter_id", int64_t{0});
    state.appservice_txn_last = json.value("appservice_txn_last", int64_t{0});
    ++state.revision;
  } catch (const nlohmann::json::exception& error) {
    throw std::runtime_error(std::string("bad state file: ") + error.what());
  }
}

void write_state_file(Homeserver& homeserver, const std::string& path) {
  std::string text;
  {
    auto lock = homeserver.read_lock();
    text = save_state(homeserver.state()).dump();
  }
  std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    if (!out) {
      throw std::runtime_error(path + ": cannot write state file");
    }
    out << text;
    if (!out.flush()) {
      throw std::runtime_error(path + ": cannot write state file");
    }
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) {
    throw std::runtime_error(path + ": cannot replace state file: " + error.message());
  }
}

bool read_state_file(Homeserver& homeserver, const std::string& path) {
  if (!std::filesystem::exists(path)) {
    return false;
  }
  std::ifstream in(path);
  if (!in) {
    throw std::runtime_error(path + ": cannot read state file");
  }
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json json = nlohmann::json::parse(text.str(), nullptr, false);
  if (json.is_discarded()) {
    throw std::runtime_error(path + ": state file is not JSON");
  }
  auto lock = homeserver.write_lock();
  try {
    load_state(homeserver.state(), json);
  } catch (const std::runtime_error& error) {
    throw std::runtime_error(path + ": " + error.what());
  }
  return true;
}

StateSaver::StateSaver(Homeserver& homeserver, std::string path, int interval_ms)
    : m_homeserver(homeserver), m_path(std::move(path)), m_interval_ms(interval_ms) {
  m_saved_revision = m_homeserver.revision();
  m_thread = std::thread([this] { run(); });
}

StateSaver::~StateSaver() { stop(); }

void StateSaver::stop() {
  {
    std::lock_guard lock(m_mutex);
    if (m_stopping) {
      return;
    }
    m_stopping = true;
  }
  m_wake.notify_all();
  if (m_thread.joinable()) {
    m_thread.join();
  }
  save_if_changed();
}

void StateSaver::save_if_changed() {
  uint64_t revision = m_homeserver.revision();
  if (revision == m_saved_revision) {
    return;
  }
  try {
    write_state_file(m_homeserver, m_path);
    m_saved_revision = revision;
  } catch (const std::exception& error) {
    std::cerr << "mxsim: " << error.what() << "\n";
  }
}

void StateSaver::run() {
  std::unique_lock lock(m_mutex);
  while (!m_stopping) {
    m_wake.wait_for(lock, std::chrono::milliseconds(m_interval_ms), [&] { return m_stopping; });
    if (m_stopping) {
      break;
    }
    lock.unlock();
    save_if_changed();
    lock.lock();
  }
}

}  // namespace mxsim
