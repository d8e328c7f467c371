#include "mxsim/state.h"

#include "mxsim/auth_rules.h"
#include "mxsim/errors.h"
#include "mxsim/ids.h"

namespace mxsim {

User* ServerState::find_user(const std::string& user_id) {
  auto it = users.find(user_id);
  return it == users.end() ? nullptr : &it->second;
}

Room* ServerState::find_room(const std::string& room_id) {
  auto it = rooms.find(room_id);
  return it == rooms.end() ? nullptr : it->second.get();
}

const AppService* ServerState::appservice_by_token(const std::string& token) const {
  for (const auto& service : appservices) {
    if (service.as_token == token) {
      return &service;
    }
  }
  return nullptr;
}

const AppService* ServerState::appservice_by_id(const std::string& id) const {
  for (const auto& service : appservices) {
    if (service.id == id) {
      return &service;
    }
  }
  return nullptr;
}

const AppService* ServerState::exclusive_user_owner(const std::string& user_id) const {
  for (const auto& service : appservices) {
    if (service.exclusive_user(user_id)) {
      return &service;
    }
  }
  return nullptr;
}

const AppService* ServerState::exclusive_alias_owner(const std::string& alias) const {
  for (const auto& service : appservices) {
    if (service.exclusive_alias(alias)) {
      return &service;
    }
  }
  return nullptr;
}

int64_t ServerState::advance_stream() {
  ++revision;
  return ++stream;
}

std::string ServerState::local_user_id(const std::string& localpart) const {
  return "@" + localpart + ":" + server_name;
}

bool ServerState::is_local_user(const std::string& user_id) const {
  auto parsed = parse_user_id(user_id);
  return parsed && parsed->server == server_name;
}

std::string ServerState::mint_token(const std::string& user_id, const std::string& device_id, bool puppet,
                                    std::optional<int64_t> valid_until_ms) {
  std::string token = "mxs_" + random_string(32);
  tokens[token] = AccessToken{user_id, device_id, valid_until_ms, puppet};
  ++revision;
  return token;
}

namespace {

/// Synapse's validate_canonicaljson (room versions 6+): no floats, integers
/// within [-(2^53)+1, 2^53-1].
void check_canonical_json(const nlohmann::json& value) {
  constexpr int64_t k_max = (int64_t{1} << 53) - 1;
  if (value.is_number_float()) {
    throw bad_json("Bad JSON value: float");
  }
  if (value.is_number_unsigned() && value.get<uint64_t>() > static_cast<uint64_t>(k_max)) {
    throw bad_json("JSON integer out of range");
  }
  if (value.is_number_integer() && !value.is_number_unsigned() &&
      (value.get<int64_t>() > k_max || value.get<int64_t>() < -k_max)) {
    throw bad_json("JSON integer out of range");
  }
  if (value.is_structured()) {
    for (const auto& item : value) {
      check_canonical_json(item);
    }
  }
}

/// Synapse's _check_size_limits: 413 M_TOO_LARGE.
void check_size_limits(const Event& event) {
  auto too_large = [](const std::string& what) { return MatrixError(413, "M_TOO_LARGE", what); };
  if (event.sender.size() > 255) {
    throw too_large("'user_id' too large");
  }
  if (event.state_key && event.state_key->size() > 255) {
    throw too_large("'state_key' too large");
  }
  if (event.type.size() > 255) {
    throw too_large("'type' too large");
  }
  if (event.to_client(true).dump().size() > 65536) {
    throw too_large("event too large");
  }
}

}  // namespace

const Event& ServerState::commit_event(Room& room, Event event) {
  event.room_id = room.room_id();
  if (event.event_id.empty()) {
    event.event_id = new_event_id();
  }
  if (event.origin_server_ts == 0) {
    event.origin_server_ts = now_ms();
  }
  if (room.version_number() >= 6) {
    check_canonical_json(event.content);
  }
  check_size_limits(event);
  check_event_allowed(room, event);
  event.stream = advance_stream();
  const Event& stored = room.append(std::move(event));
  if (on_event) {
    on_event(stored);
  }
  return stored;
}

}  // namespace mxsim
