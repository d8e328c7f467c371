#include "adapters/homeserver/sync_state.h"

#include <algorithm>
#include <array>
#include <random>

#include "adapters/homeserver/answer_shape.h"
#include "adapters/homeserver/error_context.h"
#include "adapters/homeserver/event_shape.h"
#include "adapters/homeserver/json_text.h"
#include "adapters/homeserver/room_creators.h"
#include "adapters/homeserver/room_state_reader.h"
#include "adapters/sha256.h"
#include "model/byte_codec.h"
#include "model/state_codec.h"

namespace adapters {

namespace {

bool is_string_field(const nlohmann::json& event, const char* name) {
  auto it = event.find(name);
  return it != event.end() && it->is_string();
}

bool is_state_event(const nlohmann::json& event) {
  return event.is_object() && is_string_field(event, "state_key") && is_string_field(event, "type");
}

// The fields a room's state is read from: a snapshot keeps these only.
constexpr std::array<const char*, 4> k_state_fields = {"type", "state_key", "sender", "content"};

std::pair<std::string, std::string> state_key_of(const nlohmann::json& event) {
  return {event.find("type")->get<std::string>(), event.find("state_key")->get<std::string>()};
}

bool absorb(const nlohmann::json& events, RoomState& state) {
  bool touched = false;
  if (!events.is_array()) {
    return touched;
  }
  for (const nlohmann::json& event : events) {
    if (!is_state_event(event)) {
      continue;  // not a state event (messages in the timeline)
    }
    state.insert_or_assign(state_key_of(event), compact_event(event));
    touched = true;
  }
  return touched;
}

// As absorb, but moves the events out of `events` (an answer's entry that
// is dropped afterwards): copying them was a tenth of a full read's CPU.
bool absorb_taking(nlohmann::json* events, RoomState& state) {
  bool touched = false;
  if (events == nullptr || !events->is_array()) {
    return touched;
  }
  for (nlohmann::json& event : *events) {
    if (!is_state_event(event)) {
      continue;
    }
    auto key = state_key_of(event);
    for (auto field = event.begin(); field != event.end();) {
      const bool kept = std::find(k_state_fields.begin(), k_state_fields.end(), field.key()) != k_state_fields.end();
      field = kept ? std::next(field) : event.erase(field);
    }
    state.insert_or_assign(std::move(key), std::move(event));
    touched = true;
  }
  return touched;
}

bool has_state_event(const nlohmann::json& events) {
  return events.is_array() && std::any_of(events.begin(), events.end(), is_state_event);
}

// A member's own membership event among `events` (sender and state_key
// the same user): a join, a leave, or a change of their profile.
bool member_acted(const nlohmann::json& events) {
  if (!events.is_array()) {
    return false;
  }
  for (const nlohmann::json& event : events) {
    if (is_state_event(event) && event["type"] == "m.room.member" && is_string_field(event, "sender") &&
        event["sender"] == event["state_key"]) {
      return true;
    }
  }
  return false;
}

const nlohmann::json& section(const nlohmann::json& room, const char* name) {
  static const nlohmann::json k_empty = nlohmann::json::array();
  auto it = room.find(name);
  if (it == room.end() || !it->is_object()) {
    return k_empty;
  }
  auto events = it->find("events");
  return events == it->end() ? k_empty : *events;
}

// The events of `room`'s section `name`, to take out of it; null when absent.
nlohmann::json* section_events(nlohmann::json& room, const char* name) {
  auto it = room.find(name);
  if (it == room.end() || !it->is_object()) {
    return nullptr;
  }
  auto events = it->find("events");
  return events == it->end() ? nullptr : &*events;
}

// Reads one room into the model; `events` is a RoomState or a JSON array.
template <typename Events, typename EventOf>
BotRoom read_room(const std::string& room_id, const Events& events, EventOf event_of,
                  const model::Settings& settings) {
  static const std::map<std::string, std::string> k_no_keys;
  RoomStateReader reader(room_id, k_no_keys, settings);
  const nlohmann::json* create = nullptr;
  for (const auto& item : events) {
    const nlohmann::json& event = event_of(item);
    reader.add(event);
    if (is_state_event(event) && event["type"] == "m.room.create" && event["state_key"] == "") {
      create = &event;
    }
  }
  BotRoom room{std::move(reader).finish(), {}};
  if (create && creators_have_unlimited_power(room.observed.room.room_version)) {
    room.creators = room_creators(nlohmann::json::array({*create}));
  }
  return room;
}

BotRoom read_room(const std::string& room_id, const RoomState& state, const model::Settings& settings) {
  return read_room(room_id, state, [](const RoomState::value_type& item) -> const nlohmann::json& { return item.second; },
                   settings);
}

BotRoom read_room(const std::string& room_id, const nlohmann::json& array, const model::Settings& settings) {
  return read_room(room_id, array, [](const nlohmann::json& event) -> const nlohmann::json& { return event; },
                   settings);
}

// The shape of one joined room's entry, as far as mxctl reads it: an
// object whose `state` (optional) and `timeline` (optional; its `events`
// required, as the spec's TimelineBatch says) hold events.
model::Result<void> check_joined(const Answer& answer, const nlohmann::json& entry, const std::string& where) {
  if (auto object = answer.value(entry, where, JsonType::object); !object) {
    return tl::unexpected(object.error());
  }
  for (const char* name : {"state", "timeline"}) {
    auto block = answer.optional_field(entry, where, name, JsonType::object);
    if (!block) {
      return tl::unexpected(block.error());
    }
    if (!*block) {
      continue;
    }
    const std::string at = field_path(where, name);
    const bool timeline = std::string(name) == "timeline";
    auto events = timeline ? answer.field(**block, at, "events", JsonType::array)
                           : answer.optional_field(**block, at, "events", JsonType::array);
    if (!events) {
      return tl::unexpected(events.error());
    }
    if (*events) {
      if (auto checked = check_events(answer, **events, field_path(at, "events"), !timeline); !checked) {
        return checked;
      }
    }
  }
  return {};
}

// What is left of a /sync answer once the joined rooms are taken out: an
// object with a string next_batch; rooms, rooms.join and rooms.leave, where
// present, objects (a left room's entry an object too).
model::Result<void> check_rest(const Answer& answer, const nlohmann::json& rest) {
  if (auto object = answer.body(JsonType::object); !object) {
    return tl::unexpected(object.error());
  }
  if (auto token = answer.field(rest, "", "next_batch", JsonType::string); !token) {
    return tl::unexpected(token.error());
  }
  auto rooms = answer.optional_field(rest, "", "rooms", JsonType::object);
  if (!rooms || !*rooms) {
    return rooms ? model::Result<void>() : tl::unexpected(rooms.error());
  }
  for (const char* name : {"join", "leave"}) {
    auto block = answer.optional_field(**rooms, "rooms", name, JsonType::object);
    if (!block) {
      return tl::unexpected(block.error());
    }
    if (*block && std::string(name) == "leave") {
      for (const auto& [room_id, entry] : (*block)->items()) {
        if (auto left = answer.value(entry, "rooms.leave[\"" + room_id + "\"]", JsonType::object); !left) {
          return tl::unexpected(left.error());
        }
      }
    }
  }
  return {};
}

// One pass over a /sync answer, with or without the previous snapshots.
class SyncFold {
 public:
  SyncFold(const SnapshotBase* base, std::map<std::string, BotRoom>* rooms_read, const KeptReads* kept,
           const model::Settings& settings, std::string path, bool stop_if_unchanged)
      : m_base(base && !base->empty() ? base : nullptr),
        m_rooms_read(rooms_read),
        m_kept(kept && !kept->basis.empty() && (kept->reads || kept->load) ? kept : nullptr),
        m_settings(settings),
        m_path(std::move(path)),
        m_stop_if_unchanged(stop_if_unchanged) {}

  // A joined room's entry, as the parser hands it over; its events are
  // moved out of it.
  void joined(const std::string& room_id, nlohmann::json& entry) {
    if (m_malformed || m_snapshot_unreadable) {
      return;
    }
    static const nlohmann::json k_streamed;  // the entries are checked one by one
    if (auto checked = check_joined(Answer("GET", m_path, k_streamed), entry, "rooms.join[\"" + room_id + "\"]");
        !checked) {
      m_malformed = checked.error();
      return;
    }
    RoomState state;
    bool touched = true;  // a room new to us counts even if empty
    std::string digest;   // of the snapshot the room is read from
    if (m_base) {
      if (auto stored = m_base->digests->find(room_id); stored != m_base->digests->end()) {
        if (!has_state_event(section(entry, "state")) && !has_state_event(section(entry, "timeline"))) {
          return;  // as its snapshot: read with the rooms the answer did not name
        }
        auto text = stored_text(room_id, stored->second);
        std::optional<RoomState> parsed = text ? parse_snapshot(*text) : std::nullopt;
        if (!parsed) {
          m_snapshot_unreadable = true;
          return;
        }
        state = std::move(*parsed);
        touched = false;
        digest = stored->second;
      }
    }
    m_out.members_acted = m_out.members_acted || member_acted(section(entry, "state")) ||
                          member_acted(section(entry, "timeline"));
    touched = absorb_taking(section_events(entry, "state"), state) || touched;
    touched = absorb_taking(section_events(entry, "timeline"), state) || touched;
    if (touched) {
      const std::string& text = (m_out.changed_snapshots[room_id] = snapshot_text(state)).value();
      digest = m_kept ? snapshot_digest(text) : std::string();
    }
    BotRoom& room = m_out.rooms[room_id] = read_room(room_id, state, m_settings);
    if (m_kept) {
      note_read(room_id, room_read_digest(m_kept->basis, digest), room);
    }
  }

  // After the answer: the stored rooms it did not mention are as they were;
  // the rooms it lists as left are gone.
  void finish(const nlohmann::json& rest) {
    if (auto checked = check_rest(Answer("GET", m_path, rest), rest); !checked && !m_malformed) {
      m_malformed = checked.error();
    }
    if (m_malformed || m_snapshot_unreadable) {
      return;
    }
    auto rooms = rest.find("rooms");
    const nlohmann::json* leave = nullptr;
    if (rooms != rest.end() && rooms->is_object()) {
      if (auto found = rooms->find("leave"); found != rooms->end() && found->is_object()) {
        leave = &*found;
      }
    }
    m_out.sync_token = rest.value("next_batch", "");
    m_out.incremental = m_base != nullptr;
    if (m_stop_if_unchanged && m_base && m_out.changed_snapshots.empty() && (!leave || leave->empty())) {
      m_out.unchanged = true;
      m_out.rooms.clear();
      m_out.reads_made.clear();
      return;
    }
    if (m_base) {
      for (const auto& [room_id, listed] : *m_base->digests) {
        if (m_out.rooms.count(room_id)) {
          continue;
        }
        if (m_rooms_read) {
          if (auto known = m_rooms_read->extract(room_id)) {
            m_out.rooms.insert(std::move(known));
            continue;
          }
        }
        std::string digest;
        if (m_kept) {
          digest = room_read_digest(m_kept->basis, listed);
          if (auto kept = recall(room_id, digest)) {
            m_out.rooms.emplace(room_id, std::move(*kept));
            continue;
          }
        }
        auto text = stored_text(room_id, listed);
        nlohmann::json events = text ? nlohmann::json::parse(*text, nullptr, false) : nlohmann::json();
        if (!events.is_array()) {
          m_snapshot_unreadable = true;
          return;
        }
        BotRoom& room = m_out.rooms[room_id] = read_room(room_id, events, m_settings);
        if (m_kept) {
          // No kept read, another snapshot's, or one that does not decode.
          m_out.reads_made[room_id] = KeptRoomRead{digest, encode_bot_room(room)};
        }
      }
    }
    if (leave) {
      for (const auto& [room_id, room] : leave->items()) {
        if (m_out.rooms.erase(room_id) > 0) {
          m_out.changed_snapshots[room_id] = std::nullopt;
        }
      }
    }
  }

  bool snapshot_unreadable() const { return m_snapshot_unreadable; }
  /// The first thing wrong with the answer's shape, if anything was.
  const std::optional<model::Error>& malformed() const { return m_malformed; }
  /// The answer's next_batch, once finished.
  const std::string& next_batch() const { return m_out.sync_token; }
  BotRooms take() && { return std::move(m_out); }

 private:
  // A stored snapshot's text, if it can be had and is the one its digest names.
  std::optional<std::string> stored_text(const std::string& room_id, const std::string& digest) const {
    std::optional<std::string> text = m_base->text ? m_base->text(room_id) : std::nullopt;
    if (!text || snapshot_digest(*text) != digest) {
      return std::nullopt;
    }
    return text;
  }

  // The kept reads, loaded when first needed.
  const std::map<std::string, KeptRoomRead>& kept_reads() {
    if (!m_kept->load) {
      return *m_kept->reads;
    }
    if (!m_loaded_reads) {
      m_loaded_reads = m_kept->load();
    }
    return *m_loaded_reads;
  }

  // The kept read of `room_id`, if it was made from the snapshot `digest` names.
  std::optional<BotRoom> recall(const std::string& room_id, const std::string& digest) {
    const auto& reads = kept_reads();
    auto kept = reads.find(room_id);
    if (kept == reads.end() || kept->second.digest != digest) {
      return std::nullopt;
    }
    return decode_bot_room(kept->second.read);
  }

  // Keeps the read of a snapshot unless a read of the same snapshot is kept.
  void note_read(const std::string& room_id, const std::string& digest, const BotRoom& room) {
    const auto& reads = kept_reads();
    auto kept = reads.find(room_id);
    if (kept == reads.end() || kept->second.digest != digest) {
      m_out.reads_made[room_id] = KeptRoomRead{digest, encode_bot_room(room)};
    }
  }

  const SnapshotBase* m_base;                    // null: a full read
  std::map<std::string, BotRoom>* m_rooms_read;  // read from m_base, taken out; null: read them
  const KeptReads* m_kept;                       // null: neither use nor make reads
  const model::Settings& m_settings;
  std::string m_path;
  bool m_stop_if_unchanged;
  std::optional<std::map<std::string, KeptRoomRead>> m_loaded_reads;
  BotRooms m_out;
  bool m_snapshot_unreadable = false;
  std::optional<model::Error> m_malformed;
};

// Synapse (1.67) takes a well-formed token that is ahead of it and answers
// from its own position: no rooms changed, next_batch behind the token.
bool ahead_of_server(const std::string& since, const std::string& next_batch) {
  const auto asked = token_position(since);
  const auto answered = token_position(next_batch);
  return asked && answered && *answered < *asked;
}

}  // namespace

std::string encode_bot_room(const BotRoom& room) {
  model::ByteWriter out;
  out.text(model::encode_observed_room(room.observed));
  out.unsigned_int(room.creators.size());
  for (const std::string& creator : room.creators) {
    out.text(creator);
  }
  return std::move(out).take();
}

std::optional<BotRoom> decode_bot_room(std::string_view bytes) {
  model::ByteReader in(bytes);
  const std::string observed_bytes = in.text();
  auto observed = model::decode_observed_room(observed_bytes);
  BotRoom room;
  const std::size_t count = in.count();
  for (std::size_t i = 0; i < count && in.ok(); ++i) {
    std::string creator = in.text();
    if (!room.creators.empty() && !(*room.creators.rbegin() < creator)) {
      in.fail();  // not ascending: not what encode_bot_room wrote
    }
    room.creators.insert(room.creators.end(), std::move(creator));
  }
  if (!observed || !in.finished()) {
    return std::nullopt;
  }
  room.observed = std::move(*observed);
  return room;
}

std::string room_read_digest(const std::string& basis, std::string_view snapshot_digest) {
  model::ByteWriter head;
  head.text(basis);
  Sha256 digest;
  digest.update(std::move(head).take());
  digest.update(snapshot_digest);
  return digest.hex();
}

SnapshotBase snapshots_in(const std::map<std::string, std::string>& texts,
                          const std::map<std::string, std::string>& digests) {
  return SnapshotBase{&digests, [&texts](const std::string& room_id) -> std::optional<std::string> {
                        auto found = texts.find(room_id);
                        return found == texts.end() ? std::nullopt : std::optional<std::string>(found->second);
                      }};
}

std::optional<std::int64_t> token_position(const std::string& token) {
  std::size_t start = 0;
  if (!token.empty() && (token[0] == 's' || token[0] == 'm')) {
    start = 1;
  }
  std::size_t end = start;
  while (end < token.size() && token[end] >= '0' && token[end] <= '9') {
    ++end;
  }
  // A bare number, or one ended by Synapse's separators ("_" between
  // streams, "~" before the per-writer positions).
  if (end == start || end - start > 18 || (end < token.size() && token[end] != '_' && token[end] != '~') ||
      (start == 0 && end != token.size())) {
    return std::nullopt;
  }
  return std::stoll(token.substr(start, end - start));
}

std::string fresh_sync_filter(int timeline_limit, bool state_fields_only) {
  std::random_device random;
  nlohmann::json filter = {
      {"presence", {{"not_types", {"*"}}}},
      {"account_data", {{"not_types", {"*", "org.mxctl.fresh." + std::to_string(random())}}}},
      {"room",
       {{"timeline", {{"limit", timeline_limit}}},
        {"ephemeral", {{"not_types", {"*"}}}},
        {"account_data", {{"not_types", {"*"}}}},
        {"state", {{"lazy_load_members", false}}}}},
  };
  if (state_fields_only) {
    filter["event_fields"] = k_state_fields;
  }
  return filter.dump();
}

nlohmann::json compact_event(const nlohmann::json& event) {
  nlohmann::json compact = nlohmann::json::object();
  for (const char* field : k_state_fields) {
    if (auto it = event.find(field); it != event.end()) {
      compact[field] = *it;
    }
  }
  return compact;
}

bool absorb_sync_room(const nlohmann::json& room, RoomState& state) {
  bool touched = absorb(section(room, "state"), state);
  return absorb(section(room, "timeline"), state) || touched;
}

std::string snapshot_text(const RoomState& state) {
  std::string text = "[";
  for (const auto& [key, event] : state) {
    if (text.size() > 1) {
      text += ',';
    }
    append_json_text(text, event);
  }
  text += ']';
  // Appending doubles the capacity; 6,000 snapshots held until they are
  // saved would otherwise take up to twice their size.
  text.shrink_to_fit();
  return text;
}

RoomState room_state_of(const nlohmann::json& events) {
  RoomState state;
  absorb(events, state);
  return state;
}

BotRoom read_bot_room(const std::string& room_id, const RoomState& state, const model::Settings& settings) {
  return read_room(room_id, state, settings);
}

std::optional<RoomState> parse_snapshot(const std::string& text) {
  nlohmann::json events = nlohmann::json::parse(text, nullptr, false);
  if (!events.is_array()) {
    return std::nullopt;
  }
  RoomState state;
  absorb(events, state);
  return state;
}

nlohmann::json::parser_callback_t stream_joined_rooms(
    std::function<void()> on_document,
    std::function<void(const std::string& room_id, nlohmann::json& room)> on_room) {
  // The keys on the path to the value being parsed, by depth: a joined
  // room's entry is the object ending at depth 3 under "rooms" → "join".
  auto path = std::make_shared<std::vector<std::string>>();
  return [path, on_document = std::move(on_document), on_room = std::move(on_room)](
             int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using Event = nlohmann::json::parse_event_t;
    if (event == Event::object_start && depth == 0) {
      path->clear();
      on_document();
      return true;
    }
    if (event == Event::key) {
      // Only the keys down to a joined room's id are asked for: keeping the
      // hundreds of thousands below them was a copy each.
      if (depth <= 3) {
        path->resize(static_cast<std::size_t>(depth) + 1);
        (*path)[static_cast<std::size_t>(depth)] =
            parsed.is_string() ? parsed.get_ref<const std::string&>() : std::string();
      }
      return true;
    }
    if (event == Event::object_end && depth == 3 && path->size() > 3 && (*path)[1] == "rooms" &&
        (*path)[2] == "join") {
      on_room((*path)[3], parsed);
      return false;  // handled: drop it from the document
    }
    return true;
  };
}

model::Result<BotRooms> read_bot_rooms(MatrixClient& client, const std::string& sync_path, const std::string& since,
                                       const SnapshotBase& snapshots, const model::Settings& settings,
                                       std::map<std::string, BotRoom>* rooms_read, const KeptReads* kept,
                                       bool stop_if_unchanged) {
  // One fold per answer: a retried request starts a new document, and the
  // fold starts again with it.
  std::optional<SyncFold> fold;
  auto read = [&](const std::string& path, const SnapshotBase* base) {
    std::map<std::string, BotRoom>* read_from_base = base ? rooms_read : nullptr;
    fold.reset();
    auto start = [&] { fold.emplace(base, read_from_base, kept, settings, path, stop_if_unchanged && base); };
    auto answer = client.get(path, stream_joined_rooms(start, [&](const std::string& room_id, nlohmann::json& room) {
                               fold->joined(room_id, room);
                             }));
    if (answer && !fold) {
      start();  // no object was parsed: finish() says what came instead
    }
    return answer;
  };
  // With a token and the snapshots behind it, ask only for what changed. A
  // token without snapshots would hide every room that did not change.
  if (!since.empty() && !snapshots.empty()) {
    auto sync = read(sync_path + "&since=" + encode_path_segment(since), &snapshots);
    if (sync) {
      fold->finish(*sync);
      if (fold->malformed()) {
        return failed(*fold->malformed(), "cannot read changes to the bot's rooms (/sync)");
      }
      if (!fold->snapshot_unreadable() && !ahead_of_server(since, fold->next_batch())) {
        return std::move(*fold).take();
      }
      // A snapshot we cannot read, or a token the server never reached:
      // read everything instead.
    } else if (sync.error().error.kind != model::Error::Kind::invalid &&
               sync.error().error.kind != model::Error::Kind::not_found) {
      // A token the server no longer knows (or another server's) is not an
      // error: read everything, as a pass without a token would.
      return failed(sync.error(), "cannot read changes to the bot's rooms (/sync)");
    }
  }
  auto sync = read(sync_path, nullptr);
  if (!sync) {
    return failed(sync.error(), "cannot read the bot's rooms (/sync)");
  }
  fold->finish(*sync);
  if (fold->malformed()) {
    return failed(*fold->malformed(), "cannot read the bot's rooms (/sync)");
  }
  BotRooms out = std::move(*fold).take();
  if (!snapshots.empty()) {
    for (const auto& [room_id, digest] : *snapshots.digests) {
      if (!out.rooms.count(room_id)) {
        out.changed_snapshots[room_id] = std::nullopt;
      }
    }
  }
  return out;
}

}  // namespace adapters
