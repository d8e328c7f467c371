#include "adapters/homeserver/sync_change_feed.h"

#include "adapters/homeserver/answer_shape.h"
#include "adapters/homeserver/api_paths.h"
#include "adapters/homeserver/sync_state.h"

namespace adapters {

namespace {

ClientOptions widened(ClientOptions options, std::chrono::milliseconds longest_wait) {
  // The server is silent for the whole wait before it answers.
  options.read_timeout = std::max(options.read_timeout, longest_wait + std::chrono::seconds(30));
  options.limits.deadline = std::max(options.limits.deadline, longest_wait + std::chrono::seconds(60));
  // A wait is not part of any pass: no pass deadline, and no retries here
  // (the loop backs off between waits).
  options.deadline.reset();
  options.read_attempts = 1;
  options.read_only = true;
  return options;
}

// Whether `block` ("timeline", "state") of a joined room holds an event
// that is not one of mxctl's own writes (those are taken out of `own`);
// `saw_own` is set when it held one that is.
bool has_foreign_events(const Answer& answer, const nlohmann::json& room, const std::string& room_id,
                        const std::string& where, const char* block, OwnWrites* own, bool& saw_own,
                        model::Result<bool>& verdict) {
  auto section = answer.optional_field(room, where, block, JsonType::object);
  if (!section) {
    verdict = tl::unexpected(section.error());
    return false;
  }
  if (*section == nullptr) {
    return false;
  }
  auto events = answer.optional_field(**section, field_path(where, block), "events", JsonType::array);
  if (!events) {
    verdict = tl::unexpected(events.error());
    return false;
  }
  if (*events == nullptr) {
    return false;
  }
  bool foreign = false;
  for (const nlohmann::json& event : **events) {
    auto text = [&](const nlohmann::json& object, const char* name) {
      auto it = object.is_object() ? object.find(name) : object.end();
      return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    auto content = event.is_object() ? event.find("content") : event.end();
    const std::string membership = content != event.end() ? text(*content, "membership") : std::string();
    // Not a well-formed event, or someone else's: a pass looks at it.
    if (own != nullptr && own->take(room_id, text(event, "event_id"), text(event, "type"), text(event, "sender"),
                                    text(event, "state_key"), membership)) {
      saw_own = true;
      continue;
    }
    foreign = true;
  }
  return foreign;
}

}  // namespace

SyncChangeFeed::SyncChangeFeed(const std::string& base_url, std::string access_token, ClientOptions options,
                               std::chrono::milliseconds longest_wait)
    : m_client(base_url, std::move(access_token), widened(std::move(options), longest_wait)),
      m_longest_wait(longest_wait) {}

model::Result<ChangeNotice> SyncChangeFeed::wait(const std::string& position, std::chrono::milliseconds timeout) {
  timeout = std::clamp(timeout, std::chrono::milliseconds::zero(), m_longest_wait);
  std::string path = api::k_client + "/sync?filter=" + encode_path_segment(fresh_sync_filter(1));
  if (!position.empty()) {
    path += "&since=" + encode_path_segment(position) + "&timeout=" + std::to_string(timeout.count());
  } else {
    path += "&timeout=0";
  }
  auto answer = m_client.get(path);
  if (!answer) {
    return tl::unexpected(answer.error().error);
  }
  auto notice = read_change_notice("GET " + api::k_client + "/sync", *answer, position.empty() ? nullptr : m_own);
  if (notice && position.empty()) {
    notice->rooms.clear();  // a first read shows every room: nothing moved
  }
  return notice;
}

model::Result<ChangeNotice> read_change_notice(const std::string& request, const nlohmann::json& body,
                                               OwnWrites* own) {
  const std::string method = request.substr(0, request.find(' '));
  const Answer answer(method, request.substr(request.find(' ') + 1), body);
  auto top = answer.body(JsonType::object);
  if (!top) {
    return tl::unexpected(top.error());
  }
  ChangeNotice notice;
  auto next_batch = answer.string(body, "", "next_batch");
  if (!next_batch) {
    return tl::unexpected(next_batch.error());
  }
  notice.next_position = std::move(*next_batch);
  auto rooms = answer.optional_field(body, "", "rooms", JsonType::object);
  if (!rooms) {
    return tl::unexpected(rooms.error());
  }
  if (*rooms == nullptr) {
    return notice;
  }
  auto joined = answer.optional_field(**rooms, "rooms", "join", JsonType::object);
  if (!joined) {
    return tl::unexpected(joined.error());
  }
  if (*joined != nullptr) {
    for (const auto& [room_id, room] : (*joined)->items()) {
      const std::string where = "rooms.join." + room_id;
      if (auto shape = answer.value(room, where, JsonType::object); !shape) {
        return tl::unexpected(shape.error());
      }
      model::Result<bool> verdict = true;
      bool saw_own = false;
      // Both blocks are read whole, so that every own write they hold is
      // taken out of `own`.
      const bool timeline_moved = has_foreign_events(answer, room, room_id, where, "timeline", own, saw_own, verdict);
      const bool state_moved = has_foreign_events(answer, room, room_id, where, "state", own, saw_own, verdict);
      const bool moved = timeline_moved || state_moved;
      notice.only_own_writes = notice.only_own_writes || (saw_own && !moved);
      if (!verdict) {
        return tl::unexpected(verdict.error());
      }
      if (moved) {
        notice.rooms.insert(room_id);
      }
    }
  }
  auto left = answer.optional_field(**rooms, "rooms", "leave", JsonType::object);
  if (!left) {
    return tl::unexpected(left.error());
  }
  if (*left != nullptr) {
    for (const auto& [room_id, room] : (*left)->items()) {
      notice.rooms.insert(room_id);
    }
  }
  return notice;
}

}  // namespace adapters
