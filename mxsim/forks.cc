#include "mxsim/forks.h"

#include <utility>

#include "mxsim/errors.h"
#include "mxsim/state.h"

namespace mxsim {

namespace {

// The room write the calling thread is carrying out, if any: events are
// committed deep inside the handlers, which know nothing of the fork mode.
thread_local std::optional<RoomWrite> t_write;

}  // namespace

nlohmann::json ForkSettings::to_json() const { return {{"enabled", enabled}, {"hold_ms", hold_ms}}; }

ForkSettings ForkSettings::from_json(const nlohmann::json& json, ForkSettings base) {
  try {
    base.enabled = json.value("enabled", base.enabled);
    base.hold_ms = json.value("hold_ms", base.hold_ms);
  } catch (const nlohmann::json::exception& error) {
    throw bad_json(std::string("bad fork settings: ") + error.what());
  }
  if (base.hold_ms < 0) {
    throw bad_json("hold_ms must be 0 or more");
  }
  return base;
}

std::optional<std::string> room_written(const std::string& route, const PathParams& params) {
  if (route == "POST /_synapse/admin/v1/join/{roomIdOrAlias}") {
    auto room = params.find("roomIdOrAlias");
    if (room != params.end() && !room->second.empty() && room->second[0] == '!') {
      return room->second;
    }
    return std::nullopt;
  }
  if (route.rfind("PUT ", 0) != 0 && route.rfind("POST ", 0) != 0) {
    return std::nullopt;
  }
  const std::string marker = "/rooms/{roomId}/";
  const std::size_t at = route.find(marker);
  auto room = params.find("roomId");
  if (at == std::string::npos || room == params.end()) {
    return std::nullopt;
  }
  const std::string rest = route.substr(at + marker.size());
  for (const char* action : {"state/", "send/", "redact/"}) {
    if (rest.rfind(action, 0) == 0) {
      return room->second;
    }
  }
  for (const char* action : {"invite", "kick", "ban", "unban", "join", "leave"}) {
    if (rest == action) {
      return room->second;
    }
  }
  return std::nullopt;
}

void ForkSimulator::configure(const ForkSettings& settings) {
  std::lock_guard lock(m_mutex);
  m_settings = settings;
}

ForkSettings ForkSimulator::settings() const {
  std::lock_guard lock(m_mutex);
  return m_settings;
}

ForkSimulator::Scope::Scope(RoomWrite write) { t_write = std::move(write); }

ForkSimulator::Scope::~Scope() { t_write.reset(); }

void ForkSimulator::on_commit(ServerState& state, const Event& event) {
  if (!t_write || t_write->room_id != event.room_id) {
    return;
  }
  RoomWrite& write = *t_write;
  Room* room = state.find_room(event.room_id);
  if (room == nullptr) {
    return;
  }
  // Siblings: events other writes committed on the same parent since this
  // write started. Walking back from the newest, the last found is the first.
  const Event* first_sibling = nullptr;
  const Event* first_state_sibling = nullptr;
  bool already_lost = false;
  const auto& events = room->events();
  for (auto it = events.rbegin(); it != events.rend() && it->stream > write.parent_stream; ++it) {
    if (it->stream == event.stream || write.own.count(it->stream)) {
      continue;
    }
    already_lost = already_lost || room->hides(it->event_id);
    if (it->is_state()) {
      first_state_sibling = &*it;
    }
    first_sibling = &*it;
  }
  write.own.insert(event.stream);
  if (first_sibling == nullptr || already_lost) {
    return;
  }
  const Event* lost = first_state_sibling != nullptr ? first_state_sibling : (event.is_state() ? &event : nullptr);
  if (lost != nullptr) {
    room->hide_from_incremental_sync(lost->event_id, first_sibling->stream, event.stream);
  }
}

}  // namespace mxsim
