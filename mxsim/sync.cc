#include "mxsim/sync.h"

#include <algorithm>
#include <set>

#include "mxsim/errors.h"
#include "mxsim/homeserver.h"
#include "mxsim/routes.h"

namespace mxsim {

namespace {

bool glob_match(const std::string& pattern, const std::string& text) {
  // Filters allow '*' wildcards; nothing else is special.
  size_t p = 0;
  size_t t = 0;
  size_t star = std::string::npos;
  size_t mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') {
    ++p;
  }
  return p == pattern.size();
}

bool type_allowed(const std::optional<std::vector<std::string>>& types, const std::vector<std::string>& not_types,
                  const std::string& type) {
  for (const auto& pattern : not_types) {
    if (glob_match(pattern, type)) {
      return false;
    }
  }
  if (!types) {
    return true;
  }
  return std::any_of(types->begin(), types->end(), [&](const std::string& pattern) { return glob_match(pattern, type); });
}

std::optional<std::vector<std::string>> string_list(const nlohmann::json& object, const char* key) {
  if (!object.is_object() || !object.contains(key) || !object[key].is_array()) {
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (const auto& entry : object[key]) {
    if (entry.is_string()) {
      out.push_back(entry.get<std::string>());
    }
  }
  return out;
}

nlohmann::json stripped_invite_state(const Room& room, const Event& member) {
  nlohmann::json events = nlohmann::json::array();
  for (const char* type : {"m.room.create", "m.room.join_rules", "m.room.name", "m.room.avatar",
                           "m.room.canonical_alias", "m.room.encryption", "m.room.topic"}) {
    if (const Event* event = room.state_event(type)) {
      events.push_back(event->to_stripped());
    }
  }
  if (const Event* sender = room.state_event("m.room.member", member.sender)) {
    if (sender->event_id != member.event_id) {
      events.push_back(sender->to_stripped());
    }
  }
  events.push_back(member.to_stripped());
  return events;
}

// The parts of a field path: split at dots, "\." standing for a dot.
std::vector<std::string> field_path(const std::string& field) {
  std::vector<std::string> parts(1);
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 1 < field.size() && field[i + 1] == '.') {
      parts.back() += '.';
      ++i;
    } else if (field[i] == '.') {
      parts.emplace_back();
    } else {
      parts.back() += field[i];
    }
  }
  return parts;
}

// Synapse's only_fields: the event with only the given fields, each copied
// (with the objects on its path) where the event has it.
nlohmann::json only_fields(const nlohmann::json& event, const std::vector<std::string>& fields) {
  if (fields.empty()) {
    return event;
  }
  nlohmann::json out = nlohmann::json::object();
  for (const std::string& field : fields) {
    const std::vector<std::string> path = field_path(field);
    const nlohmann::json* source = &event;
    bool found = true;
    for (std::size_t i = 0; i + 1 < path.size() && found; ++i) {
      auto next = source->find(path[i]);
      found = next != source->end() && next->is_object();
      if (found) {
        source = &*next;
      }
    }
    if (!found || !source->contains(path.back())) {
      continue;
    }
    nlohmann::json* target = &out;
    for (std::size_t i = 0; i + 1 < path.size(); ++i) {
      if (!target->contains(path[i])) {
        (*target)[path[i]] = nlohmann::json::object();
      }
      target = &(*target)[path[i]];
    }
    (*target)[path.back()] = (*source)[path.back()];
  }
  return out;
}

/// Timeline and state for one room. `from` is exclusive; `until` inclusive.
nlohmann::json room_section(const Room& room, int64_t from, int64_t until, bool full_state, const SyncFilter& filter) {
  std::vector<const Event*> candidates;
  // A forked write's lost state change (forks.h) is missing from incremental syncs.
  auto lost = [&](const Event& event) {
    return !full_state && room.hidden_from_incremental_sync(event.event_id, from, until);
  };
  for (const Event& event : room.events()) {
    if (event.stream > from && event.stream <= until &&
        type_allowed(filter.timeline_types, filter.timeline_not_types, event.type) && !lost(event)) {
      candidates.push_back(&event);
    }
  }
  size_t limit = static_cast<size_t>(std::max(0, filter.timeline_limit));
  bool limited = candidates.size() > limit;
  std::vector<const Event*> timeline(candidates.end() - static_cast<long>(std::min(limit, candidates.size())),
                                     candidates.end());
  std::set<std::string> in_timeline;
  nlohmann::json timeline_events = nlohmann::json::array();
  for (const Event* event : timeline) {
    in_timeline.insert(event->event_id);
    timeline_events.push_back(only_fields(event->to_client(false), filter.event_fields));
  }
  int64_t first_stream = timeline.empty() ? until : timeline.front()->stream - 1;

  // State: everything (full) or what changed in the gap before the timeline,
  // as the state at the end of the range minus what the timeline carries.
  auto state = room.current_state();
  nlohmann::json state_events = nlohmann::json::array();
  for (const auto& [key, event] : state) {
    if (event->stream > until || in_timeline.count(event->event_id)) {
      continue;
    }
    if (!full_state && (event->stream <= from || lost(*event))) {
      continue;
    }
    if (!type_allowed(filter.state_types, filter.state_not_types, key.first)) {
      continue;
    }
    state_events.push_back(only_fields(event->to_client(false), filter.event_fields));
  }
  return {{"timeline", {{"events", timeline_events}, {"limited", limited}, {"prev_batch", "s" + std::to_string(first_stream)}}},
          {"state", {{"events", state_events}}}};
}

bool room_wanted(const SyncFilter& filter, const std::string& room_id) {
  if (std::find(filter.not_rooms.begin(), filter.not_rooms.end(), room_id) != filter.not_rooms.end()) {
    return false;
  }
  return !filter.rooms || std::find(filter.rooms->begin(), filter.rooms->end(), room_id) != filter.rooms->end();
}

// As Synapse's StreamToken.from_string: "s<room>" then "_<n>" per further
// stream, every part a number, else 400 M_UNKNOWN "Invalid stream token". A
// well-formed token ahead of the stream is accepted, as Synapse accepts it:
// the answer then starts from the server's own position.
int64_t parse_since(const std::string& token) {
  const MatrixError invalid = unknown_error(400, "Invalid stream token");
  if (token.size() < 2 || token[0] != 's') {
    throw invalid;
  }
  std::size_t part_start = 1;
  for (std::size_t i = 1; i <= token.size(); ++i) {
    if (i == token.size() || token[i] == '_') {
      if (i == part_start) {
        throw invalid;
      }
      part_start = i + 1;
    } else if (token[i] < '0' || token[i] > '9') {
      throw invalid;
    }
  }
  try {
    return std::stoll(token.substr(1, token.find('_') == std::string::npos ? std::string::npos : token.find('_') - 1));
  } catch (const std::exception&) {
    throw invalid;
  }
}

}  // namespace

std::optional<nlohmann::json> SyncCache::get(const std::string& key) {
  std::lock_guard lock(m_mutex);
  auto it = m_entries.find(key);
  if (it == m_entries.end() || it->second.expires < std::chrono::steady_clock::now()) {
    return std::nullopt;
  }
  return it->second.answer;
}

void SyncCache::put(const std::string& key, nlohmann::json answer, int64_t ttl_ms) {
  if (ttl_ms <= 0) {
    return;
  }
  std::lock_guard lock(m_mutex);
  auto now = std::chrono::steady_clock::now();
  for (auto it = m_entries.begin(); it != m_entries.end();) {
    it = it->second.expires < now ? m_entries.erase(it) : std::next(it);
  }
  m_entries[key] = Entry{now + std::chrono::milliseconds(ttl_ms), std::move(answer)};
}

void SyncCache::clear() {
  std::lock_guard lock(m_mutex);
  m_entries.clear();
}

SyncFilter SyncFilter::from_json(const nlohmann::json& json) {
  SyncFilter filter;
  if (!json.is_object()) {
    return filter;
  }
  nlohmann::json room = json.value("room", nlohmann::json::object());
  filter.rooms = string_list(room, "rooms");
  filter.not_rooms = string_list(room, "not_rooms").value_or(std::vector<std::string>{});
  filter.include_leave = room.is_object() && room.value("include_leave", false);
  nlohmann::json timeline = room.is_object() ? room.value("timeline", nlohmann::json::object()) : nlohmann::json::object();
  if (timeline.is_object() && timeline.contains("limit") && timeline["limit"].is_number_integer()) {
    filter.timeline_limit = timeline["limit"].get<int>();
  }
  filter.timeline_types = string_list(timeline, "types");
  filter.timeline_not_types = string_list(timeline, "not_types").value_or(std::vector<std::string>{});
  nlohmann::json state = room.is_object() ? room.value("state", nlohmann::json::object()) : nlohmann::json::object();
  filter.state_types = string_list(state, "types");
  filter.state_not_types = string_list(state, "not_types").value_or(std::vector<std::string>{});
  nlohmann::json account_data = json.value("account_data", nlohmann::json::object());
  filter.account_data_types = string_list(account_data, "types");
  filter.account_data_not_types = string_list(account_data, "not_types").value_or(std::vector<std::string>{});
  filter.event_fields = string_list(json, "event_fields").value_or(std::vector<std::string>{});
  return filter;
}

nlohmann::json compute_sync(ServerState& state, const std::string& user_id, int64_t since, const SyncFilter& filter,
                            bool full_state) {
  const int64_t until = state.stream;
  nlohmann::json join = nlohmann::json::object();
  nlohmann::json invite = nlohmann::json::object();
  nlohmann::json leave = nlohmann::json::object();
  nlohmann::json knock = nlohmann::json::object();
  User* user = state.find_user(user_id);

  for (const auto& [room_id, room_ptr] : state.rooms) {
    const Room& room = *room_ptr;
    const Event* member = room.state_event("m.room.member", user_id);
    if (!member || !room_wanted(filter, room_id)) {
      continue;
    }
    std::string membership = member->membership();
    bool changed_membership = member->stream > since;
    if (membership == "join") {
      bool newly_joined = since > 0 && changed_membership &&
                          (!member->prev_content || member->prev_content->value("membership", "") != "join");
      bool fresh = since == 0 || newly_joined || full_state;
      if (!fresh && room.last_stream() <= since) {
        continue;
      }
      // Fresh rooms (initial sync, newly joined, full_state) carry their whole
      // state; the timeline still only covers what happened since `since`.
      nlohmann::json section = room_section(room, since, until, fresh, filter);
      nlohmann::json room_data = nlohmann::json::array();
      if (user) {
        auto found = user->room_account_data.find(room_id);
        if (found != user->room_account_data.end()) {
          for (const auto& [type, content] : found->second) {
            room_data.push_back({{"type", type}, {"content", content}});
          }
        }
      }
      section["account_data"] = {{"events", since == 0 ? room_data : nlohmann::json::array()}};
      section["ephemeral"] = {{"events", nlohmann::json::array()}};
      section["summary"] = {{"m.joined_member_count", room.users_with("join").size()},
                            {"m.invited_member_count", room.users_with("invite").size()}};
      section["unread_notifications"] = {{"notification_count", 0}, {"highlight_count", 0}};
      join[room_id] = std::move(section);
    } else if (membership == "invite") {
      if (since == 0 || changed_membership) {
        invite[room_id] = {{"invite_state", {{"events", stripped_invite_state(room, *member)}}}};
      }
    } else if (membership == "knock") {
      if (since == 0 || changed_membership) {
        knock[room_id] = {{"knock_state", {{"events", stripped_invite_state(room, *member)}}}};
      }
    } else if (membership == "leave" || membership == "ban") {
      bool include = since == 0 ? filter.include_leave : changed_membership;
      if (!include) {
        continue;
      }
      // The user sees the room up to their departure, not beyond.
      nlohmann::json section = room_section(room, since, member->stream, since == 0, filter);
      section["account_data"] = {{"events", nlohmann::json::array()}};
      leave[room_id] = std::move(section);
    }
  }

  nlohmann::json answer = {{"next_batch", "s" + std::to_string(until)}, {"device_one_time_keys_count", nlohmann::json::object()}};
  nlohmann::json rooms = nlohmann::json::object();
  if (!join.empty()) {
    rooms["join"] = join;
  }
  if (!invite.empty()) {
    rooms["invite"] = invite;
  }
  if (!leave.empty()) {
    rooms["leave"] = leave;
  }
  if (!knock.empty()) {
    rooms["knock"] = knock;
  }
  if (!rooms.empty()) {
    answer["rooms"] = rooms;
  }
  if (user) {
    nlohmann::json account_events = nlohmann::json::array();
    for (const auto& [type, content] : user->account_data) {
      auto stream = user->account_data_stream.find(type);
      bool changed = stream == user->account_data_stream.end() || stream->second > since;
      if ((since == 0 || changed) &&
          type_allowed(filter.account_data_types, filter.account_data_not_types, type)) {
        account_events.push_back({{"type", type}, {"content", content}});
      }
    }
    if (!account_events.empty()) {
      answer["account_data"] = {{"events", account_events}};
    }
  }
  return answer;
}

bool sync_is_empty(const nlohmann::json& answer) { return !answer.contains("rooms") && !answer.contains("account_data"); }

void add_sync_routes(Homeserver& hs, Router& router) {
  router.add_client("GET", "/sync", [&hs](const ApiRequest& request, const PathParams&) {
    auto lock = hs.read_lock();
    ServerState& state = hs.state();
    Requester requester = authenticate(state, request);
    // Synapse refuses /sync to an appservice's sender, however it logs in
    // (handlers/sync.py raises NotImplementedError: "We no longer support AS
    // users using /sync directly"), which reaches the client as a bare 500.
    for (const AppService& service : state.appservices) {
      if (service.sender(state.server_name) == requester.user_id) {
        throw unknown_error(500, "Internal server error");
      }
    }

    nlohmann::json filter_json = nlohmann::json::object();
    std::string filter_param = request.query_param("filter").value_or("");
    if (!filter_param.empty()) {
      if (filter_param[0] == '{') {
        filter_json = nlohmann::json::parse(filter_param, nullptr, false);
        if (filter_json.is_discarded() || !filter_json.is_object()) {
          throw not_json();
        }
      } else {
        auto found = state.filters.find(requester.user_id + '\n' + filter_param);
        if (found == state.filters.end()) {
          throw not_found("No such filter");
        }
        filter_json = found->second;
      }
    }
    SyncFilter filter = SyncFilter::from_json(filter_json);
    std::string since_param = request.query_param("since").value_or("");
    int64_t since = since_param.empty() ? 0 : parse_since(since_param);
    bool full_state = request.query_param("full_state").value_or("false") == "true";
    int64_t timeout_ms = 0;
    try {
      timeout_ms = std::stoll(request.query_param("timeout").value_or("0"));
    } catch (const std::exception&) {
      throw invalid_param("Query parameter 'timeout' must be an integer");
    }

    std::string cache_key = requester.token + '\n' + requester.user_id + '\n' + since_param + '\n' + filter_param +
                            '\n' + (full_state ? "1" : "0") + '\n' + std::to_string(timeout_ms);
    if (auto cached = hs.sync_cache().get(cache_key)) {
      return ApiResponse::json(200, *cached);
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max<int64_t>(0, timeout_ms));
    nlohmann::json answer = compute_sync(state, requester.user_id, since, filter, full_state);
    // Long-poll: an incremental sync with nothing new waits for a change.
    while (since > 0 && sync_is_empty(answer) && std::chrono::steady_clock::now() < deadline && !hs.stopping()) {
      int64_t position = state.stream;
      auto remaining =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (!hs.wait_for_stream(lock, position, remaining)) {
        break;
      }
      answer = compute_sync(state, requester.user_id, since, filter, full_state);
    }
    hs.sync_cache().put(cache_key, answer, hs.settings().sync_cache_ms);
    return ApiResponse::json(200, answer);
  });
}

}  // namespace mxsim
