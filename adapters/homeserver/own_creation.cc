#include "adapters/homeserver/own_creation.h"

#include <thread>

#include "adapters/homeserver/room_lookup.h"

namespace adapters {

namespace {

using Clock = std::chrono::steady_clock;
using Verdict = CreationCheck::Verdict;

const nlohmann::json* state_event(const RoomState& state, const std::string& type) {
  auto it = state.find({type, ""});
  return it == state.end() ? nullptr : &it->second;
}

std::string string_at(const nlohmann::json& event, const char* field) {
  auto it = event.find(field);
  return it != event.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The verdict on one reading; unsettled while the marker may yet come.
CreationCheck judge(RoomState state, const std::string& key, const model::Settings& settings) {
  CreationCheck check;
  if (const nlohmann::json* marker = state_event(state, settings.marker_event_type)) {
    const nlohmann::json& content = marker->contains("content") ? (*marker)["content"] : nlohmann::json::object();
    const std::string marked_key = string_at(content, "key");
    const std::string instance = string_at(content, "instance");
    if (marked_key == key && instance == settings.instance) {
      check.verdict = Verdict::ours;
    } else {
      check.verdict = Verdict::foreign;
      check.why = "it is marked as \"" + marked_key + "\" of instance \"" + instance + "\"";
    }
  } else if (const nlohmann::json* create = state_event(state, "m.room.create")) {
    const std::string creator = string_at(*create, "sender");
    if (creator != settings.bot_user_id) {
      check.verdict = Verdict::foreign;
      check.why = "it was created by " + (creator.empty() ? std::string("an unknown sender") : creator);
    } else {
      check.why = "the bot created it, but its marker did not appear";
    }
  } else {
    check.why = "its state could not be read";
  }
  check.state = std::move(state);
  return check;
}

}  // namespace

model::Result<CreationCheck> await_own_room(MatrixClient& client, const std::string& room_id,
                                            const std::string& key, const model::Settings& settings,
                                            const CreationWait& wait) {
  const auto deadline = Clock::now() + wait.timeout;
  for (;;) {
    auto state = fetch_room_state(client, room_id);
    if (!state) {
      return tl::unexpected(state.error());
    }
    CreationCheck check;
    if (*state) {
      check = judge(std::move(**state), key, settings);
    } else {
      check.why = "the bot cannot read its state (not in the room yet, or not at all)";
    }
    if (check.verdict != Verdict::unsettled || Clock::now() >= deadline) {
      if (check.verdict == Verdict::unsettled) {
        const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(wait.timeout).count();
        check.why += " within " + std::to_string(waited) + " ms";
      }
      return check;
    }
    std::this_thread::sleep_for(std::min<Clock::duration>(wait.interval, deadline - Clock::now()));
  }
}

}  // namespace adapters
