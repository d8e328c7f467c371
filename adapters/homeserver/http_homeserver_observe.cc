// HttpHomeserver's observation: the accounts (account_provisioning.cc) and
// the rooms, read with /sync (synapse-admin) or room by room (appservice,
// appservice_rooms.h), then sorted out by marker into managed rooms and
// alias clashes.

#include <algorithm>
#include <future>

#include "adapters/homeserver/account_provisioning.h"
#include "adapters/homeserver/answer_shape.h"
#include "adapters/homeserver/api_paths.h"
#include "adapters/homeserver/appservice_rooms.h"
#include "adapters/homeserver/error_context.h"
#include "adapters/homeserver/event_shape.h"
#include "adapters/homeserver/http_homeserver.h"
#include "adapters/homeserver/room_creators.h"
#include "adapters/homeserver/room_lookup.h"
#include "adapters/homeserver/room_state_reader.h"
#include "adapters/homeserver/room_upgrades.h"
#include "adapters/homeserver/sync_state.h"
#include "adapters/sha256.h"
#include "model/byte_codec.h"

namespace adapters {

model::Result<Observation> HttpHomeserver::observe(const model::MatrixState& desired, const ObserveHints& hints) {
  auto observed = observe_once(desired, hints);
  const bool refused = !observed && (observed.error().kind == model::Error::Kind::forbidden ||
                                     observed.error().kind == model::Error::Kind::not_found);
  if (refused && m_assumed) {
    // The kept probe may be out of date (token revoked, admin rights taken,
    // the admin API hidden by a proxy): a fresh one names the cause.
    m_assumed = false;
    if (auto fresh = probe(); !fresh) {
      return tl::unexpected(fresh.error());
    }
  }
  return observed;
}

namespace {

// The digest a ReadReplay carries: each path and its answer's digest, in order.
std::string replay_digest(const std::vector<RecordedRead>& reads) {
  model::ByteWriter out;
  out.text("mxctl.read-replay.1");
  out.unsigned_int(reads.size());
  for (const RecordedRead& read : reads) {
    out.text(read.path);
    out.text(read.digest);
  }
  Sha256 digest;
  digest.update(std::move(out).take());
  return digest.hex();
}

std::uint64_t requests(const ClientStats& stats) { return stats.reads + stats.writes; }

}  // namespace

std::string HttpHomeserver::observation_basis() const {
  if (m_read_basis.empty()) {
    return {};
  }
  model::ByteWriter out;
  out.text(m_read_basis);
  out.text(m_capabilities.user_id);
  out.text(m_capabilities.synapse_version);
  out.unsigned_int(m_capabilities.server_admin ? 1 : 0);
  out.unsigned_int(m_capabilities.versions.size());
  for (const std::string& version : m_capabilities.versions) {
    out.text(version);
  }
  return std::move(out).take();
}

model::Result<std::optional<std::string>> HttpHomeserver::unchanged_since(const ObserveHints& hints,
                                                                          const ReadReplay& replay) {
  m_pending_rooms.reset();
  if (remembers_rooms() || m_settings.provisioning == model::ProvisioningMode::appservice ||
      hints.sync_token.empty() || hints.room_snapshot_digests.empty() || !hints.rooms_written.empty()) {
    return std::nullopt;
  }
  // A few at a time: the server answers them in parallel (one after the
  // other where no thread can be had). A read that fails here is left to
  // observe(), which says what failed.
  constexpr std::size_t k_reads_at_once = 4;
  std::vector<RecordedRead> reads;
  for (std::size_t start = 0; start < replay.paths.size(); start += k_reads_at_once) {
    std::vector<std::future<tl::expected<std::string, MatrixFailure>>> answers;
    for (std::size_t i = start; i < std::min(start + k_reads_at_once, replay.paths.size()); ++i) {
      answers.push_back(std::async(std::launch::async | std::launch::deferred, [this, &path = replay.paths[i]] {
        return m_client.get_digest(path);
      }));
    }
    for (std::size_t i = 0; i < answers.size(); ++i) {
      auto digest = answers[i].get();
      if (!digest) {
        return std::nullopt;
      }
      reads.push_back({replay.paths[start + i], *digest});
    }
  }
  if (replay_digest(reads) != replay.digest) {
    return std::nullopt;
  }
  const std::string sync_path =
      api::k_client + "/sync?timeout=0&filter=" + encode_path_segment(fresh_sync_filter(0, true));
  const KeptReads kept{m_read_basis, &hints.room_reads, hints.load_room_reads};
  auto read = read_bot_rooms(m_client, sync_path, hints.sync_token, snapshots_behind(hints), m_settings, nullptr,
                             &kept, true);
  if (!read) {
    return std::nullopt;
  }
  if (read->unchanged) {
    return read->sync_token;
  }
  m_pending_rooms = PendingRooms{hints.sync_token, std::move(*read)};
  return std::nullopt;
}

model::Result<Observation> HttpHomeserver::observe_once(const model::MatrixState& desired,
                                                        const ObserveHints& hints) {
  // What this observation reads besides /sync is recorded, for a later
  // pass's unchanged_since() (which a port that remembers, or an
  // appservice's, never answers).
  if (remembers_rooms() || m_settings.provisioning == model::ProvisioningMode::appservice) {
    return observe_without_replay(desired, hints);
  }
  const ClientStats before = m_client.stats();
  const bool pending = m_pending_rooms && m_pending_rooms->since == hints.sync_token;
  m_client.record_reads();
  auto observed = observe_without_replay(desired, hints);
  std::vector<RecordedRead> reads = m_client.take_recorded_reads();
  // One /sync (none when unchanged_since() made it) and the reads recorded:
  // nothing else was asked, and nothing failed or was repeated.
  if (observed && observed->incremental && hints.rooms_written.empty() &&
      requests(m_client.stats()) - requests(before) == reads.size() + (pending ? 0 : 1)) {
    ReadReplay replay;
    replay.digest = replay_digest(reads);
    for (RecordedRead& read : reads) {
      replay.paths.push_back(std::move(read.path));
    }
    observed->replay = std::move(replay);
  }
  return observed;
}

model::Result<Observation> HttpHomeserver::observe_without_replay(const model::MatrixState& desired,
                                                            const ObserveHints& hints) {
  Observation out;
  {
    std::lock_guard<std::mutex> lock(m_creation_mutex);
    m_rooms_created.insert(hints.rooms_created.begin(), hints.rooms_created.end());
  }
  // Rooms first: what changed in them tells whether the accounts must be
  // read again in a targeted pass.
  AliasLookups aliases;
  auto read = read_all_rooms(desired, hints, aliases, out);
  if (!read) {
    return tl::unexpected(read.error());
  }
  if (auto accounts = observe_or_recall_accounts(desired, hints, *read, out.state); !accounts) {
    return tl::unexpected(accounts.error());
  }
  if (auto rooms = observe_rooms(desired, hints, *read, aliases, out); !rooms) {
    return tl::unexpected(rooms.error());
  }
  return out;
}

model::Result<void> HttpHomeserver::observe_or_recall_accounts(const model::MatrixState& desired,
                                                               const ObserveHints& hints, const BotRooms& read,
                                                               model::ObservedState& out) {
  const bool targeted = m_targeted && read.incremental && !read.members_acted;
  if (targeted && m_remembered_accounts.recall(desired, hints.suspended_accounts, out)) {
    return {};
  }
  if (auto observed = observe_accounts(m_client, m_settings, desired, hints.suspended_accounts, out); !observed) {
    return observed;
  }
  if (m_remember) {
    m_remembered_accounts.remember(desired, hints.suspended_accounts, out);
  }
  return {};
}

model::Result<BotRooms> HttpHomeserver::read_rooms(const model::MatrixState& desired, const ObserveHints& hints,
                                                   AliasLookups& aliases) {
  if (m_settings.provisioning == model::ProvisioningMode::appservice) {
    // Synapse refuses /sync to an appservice's sender. Every managed room
    // is read in full, so the rooms written need nothing more.
    return read_managed_rooms(m_client, desired, hints.room_ids, hints.room_snapshot_digests, m_settings, aliases);
  }
  model::Result<BotRooms> read = tl::unexpected(model::Error{});
  if (m_pending_rooms && m_pending_rooms->since == hints.sync_token) {
    // unchanged_since() asked /sync with these hints already.
    read = std::move(m_pending_rooms->rooms);
    m_pending_rooms.reset();
  } else {
    m_pending_rooms.reset();
    const std::string sync_path =
        api::k_client + "/sync?timeout=0&filter=" + encode_path_segment(fresh_sync_filter(0, true));
    const bool from_memory = holds_room_state(hints.sync_token);
    const KeptReads kept{m_read_basis, &hints.room_reads, hints.load_room_reads};
    read = read_bot_rooms(m_client, sync_path, hints.sync_token, snapshots_behind(hints), m_settings,
                          from_memory ? &m_remembered.rooms() : nullptr, &kept);
  }
  if (!read) {
    return tl::unexpected(read.error());
  }
  // Rooms mxctl wrote to since the token was taken are read again in full.
  // Synapse creates up to five events of a room at once: a write racing
  // another (a person's, say) gets the same parent, and /sync then reports
  // the room's state at one branch, missing the other's change until a
  // later event merges them. mxctl knows what it wrote; a pass that wrote
  // nothing leaves the next one nothing to re-read.
  if (auto reread = reread_rooms(m_client, hints.rooms_written, m_settings, *read); !reread) {
    return tl::unexpected(reread.error());
  }
  return read;
}

bool HttpHomeserver::remembers_rooms() const {
  return m_remember && m_settings.provisioning != model::ProvisioningMode::appservice;
}

bool HttpHomeserver::holds_room_state(const std::string& sync_token) const {
  return remembers_rooms() && m_remembered.holds(sync_token);
}

SnapshotBase HttpHomeserver::snapshots_behind(const ObserveHints& hints) const {
  return holds_room_state(hints.sync_token) ? m_remembered.snapshots()
                                            : SnapshotBase{&hints.room_snapshot_digests, hints.room_snapshot};
}

model::Result<void> HttpHomeserver::claim_own_rooms(const model::MatrixState& desired,
                                                    const std::set<std::string>& rooms_created, BotRooms& read,
                                                    AliasLookups& aliases) {
  if (rooms_created.empty()) {
    return {};
  }
  std::set<std::string> marked;
  std::map<std::string, std::string> holder_of;  // alias → a room read without a marker
  for (const auto& [room_id, room] : read.rooms) {
    if (!room.observed.marker_key.empty()) {
      marked.insert(room.observed.marker_key);
    } else if (!room.observed.room.alias.empty()) {
      holder_of[room.observed.room.alias] = room_id;
    }
  }
  const bool keep_snapshots = m_settings.provisioning != model::ProvisioningMode::appservice;
  for (const auto& [key, want] : desired.rooms) {
    if (marked.count(key) || !rooms_created.count(key)) {
      continue;
    }
    std::optional<std::string> room_id;
    if (auto holder = holder_of.find(want.alias); holder != holder_of.end()) {
      room_id = holder->second;
    } else {
      auto resolved = resolve_alias(m_client, want.alias, aliases);
      if (!resolved) {
        return tl::unexpected(resolved.error());
      }
      room_id = *resolved;
    }
    if (!room_id) {
      continue;
    }
    auto check = await_own_room(m_client, *room_id, key, m_settings, m_creation_wait);
    if (!check) {
      return tl::unexpected(check.error());
    }
    if (check->verdict != CreationCheck::Verdict::ours) {
      continue;  // foreign, or still unmarked: an alias clash, found below
    }
    read.rooms[*room_id] = read_bot_room(*room_id, *check->state, m_settings);
    if (keep_snapshots) {
      read.changed_snapshots[*room_id] = snapshot_text(*check->state);
    }
  }
  return {};
}

model::Result<BotRooms> HttpHomeserver::read_all_rooms(const model::MatrixState& desired, const ObserveHints& hints,
                                                       AliasLookups& aliases, Observation& out) {
  // A read from memory takes rooms out of it; it is whole again only once
  // remembered below.
  const bool from_memory = holds_room_state(hints.sync_token);
  auto read = read_rooms(desired, hints, aliases);
  // A room mxctl created whose marker is not readable yet is its own, not
  // a clash: found before anything below tells the two apart.
  model::Result<void> claimed = read ? claim_own_rooms(desired, hints.rooms_created, *read, aliases)
                                     : tl::unexpected(read.error());
  if (!claimed) {
    if (from_memory) {
      m_remembered.forget();
    }
    return tl::unexpected(claimed.error());
  }
  out.sync_token = read->sync_token;
  out.changed_snapshots = remembers_rooms() ? read->changed_snapshots : std::move(read->changed_snapshots);
  out.incremental = read->incremental;
  out.room_reads = std::move(read->reads_made);
  if (remembers_rooms()) {
    // Unused if the token this observation ends at is never saved: the
    // store's then differs.
    m_remembered.remember(std::move(*read), snapshots_behind(hints));
  }
  return read;
}

model::Result<void> HttpHomeserver::observe_rooms(const model::MatrixState& desired, const ObserveHints& hints,
                                                  BotRooms& read, AliasLookups& aliases, Observation& out) {
  // Remembered rooms stay as read; what is changed below is a copy.
  const bool remembered = remembers_rooms();
  std::map<std::string, BotRoom>& rooms = remembered ? m_remembered.rooms() : read.rooms;
  // Markers tell which room is which key; the store's map covers rooms
  // whose marker we cannot read.
  std::map<std::string, std::string> key_of;  // room id → key
  for (const auto& [key, id] : hints.room_ids) {
    key_of[id] = key;
  }
  for (const auto& [room_id, read_room] : rooms) {
    if (!read_room.observed.marker_key.empty()) {
      key_of[room_id] = read_room.observed.marker_key;
    }
  }
  const UpgradedRooms upgrades = find_upgrades(rooms);
  for (const auto& [room_id, retired] : upgrades.retired) {
    key_of.erase(room_id);
    out.state.retired_rooms.insert(room_id);
  }
  for (const auto& [room_id, key] : upgrades.successors) {
    key_of[room_id] = key;
  }
  // Then the rooms that carry our marker, in room id order.
  std::map<std::string, std::string> alias_holder;  // alias → room id of joined unmarked rooms
  for (auto& [room_id, read_room] : rooms) {
    model::ObservedRoom room;
    std::set<std::string> creators;
    if (remembered) {
      room = read_room.observed;
      creators = read_room.creators;
    } else {
      room = std::move(read_room.observed);
      creators = std::move(read_room.creators);
    }
    resolve_room_links(room, key_of);
    if (auto successor = upgrades.successors.find(room_id); successor != upgrades.successors.end()) {
      room.marker_key = successor->second;
      room.room.key = successor->second;
      room.marker_missing = true;
    }
    if (room.marker_key.empty()) {
      if (!room.room.alias.empty()) {
        alias_holder[room.room.alias] = room_id;
      }
      continue;
    }
    if (upgrades.retired.count(room_id)) {
      continue;  // left as the tombstone made it
    }
    if (creators_have_unlimited_power(room.room.room_version)) {
      if (auto want = desired.rooms.find(room.marker_key); want != desired.rooms.end()) {
        credit_creators(room.room.power_levels, want->second.power_levels, creators);
      }
      std::lock_guard<std::mutex> lock(m_creators_mutex);
      m_creators[room_id] = std::move(creators);
    } else {
      std::lock_guard<std::mutex> lock(m_creators_mutex);
      m_creators[room_id] = {};
    }
    // Two rooms with one key: a createRoom that failed half-way on Synapse
    // can leave a marked room without its alias before the retry made the
    // real one. The room holding the canonical alias is the one mxctl
    // manages; the other is left alone (and never adopted by accident).
    if (auto existing = out.state.rooms.find(room.marker_key); existing != out.state.rooms.end()) {
      auto want = desired.rooms.find(room.marker_key);
      bool existing_has_alias = want != desired.rooms.end() && existing->second.room.alias == want->second.alias;
      bool this_has_alias = want != desired.rooms.end() && room.room.alias == want->second.alias;
      if (existing_has_alias || !this_has_alias) {
        continue;
      }
    }
    out.room_ids[room.marker_key] = room_id;
    out.state.rooms[room.marker_key] = std::move(room);
  }
  // Once-messages the store does not know about (first pass, lost store,
  // crash after sending): look in the room's recent timeline.
  for (const auto& [key, want] : desired.rooms) {
    auto found = out.state.rooms.find(key);
    if (!want.once_message || found == out.state.rooms.end() || hints.messages_sent.count(key)) {
      continue;
    }
    auto sent = message_was_sent(key, found->second.room_id, *want.once_message);
    // A room taken over from an upgrade starts empty: the message went to
    // the room it replaced.
    const std::string& predecessor = found->second.predecessor;
    if (sent && !*sent) {
      if (auto old = upgrades.retired.find(predecessor); old != upgrades.retired.end() && old->second.key == key) {
        sent = message_was_sent(key, predecessor, *want.once_message);
      }
    }
    if (!sent) {
      return tl::unexpected(sent.error());
    }
    if (*sent) {
      out.state.messages_sent.insert(key);
    }
  }
  // The same for m.direct: only entries the store does not know, and only
  // for our own accounts that exist already (their account data is the only
  // one we can read; after a crash a DM can exist before its participants).
  std::set<std::string> local_users;
  for (const auto& [key, account] : out.state.accounts) {
    if (account.status == model::AccountStatus::active) {
      local_users.insert(account.user_id);
    }
  }
  for (const auto& [key, want] : desired.rooms) {
    auto found = out.state.rooms.find(key);
    if (!want.is_direct || found == out.state.rooms.end()) {
      continue;
    }
    // The store's record names the key, not the room: a room just taken
    // over from an upgrade is asked about afresh.
    const bool taken_over = found->second.marker_missing;
    for (const std::string& user : want.members) {
      if (!local_users.count(user) || (hints.directs_set.count({key, user}) && !taken_over)) {
        continue;
      }
      auto listed = direct_is_set(want, found->second.room_id, user, desired);
      if (!listed) {
        return tl::unexpected(listed.error());
      }
      if (*listed) {
        out.state.directs_set.insert({key, user});
      }
    }
  }
  // Keys whose room was upgraded to one the bot is not in: the last room of
  // the chain says which room to join.
  for (const auto& [room_id, retired] : upgrades.retired) {
    if (!out.state.rooms.count(retired.key) && desired.rooms.count(retired.key) &&
        !upgrades.retired.count(retired.replacement)) {
      const bool joined = rooms.count(retired.replacement) > 0;  // and not a successor, or it would be ours
      out.state.upgraded[retired.key] = model::UpgradedRoom{room_id, retired.replacement, joined};
    }
  }
  // Desired rooms not found among the bot's rooms: the alias says whether
  // something else holds the name (a clash) or nothing does (to be created).
  for (const auto& [key, want] : desired.rooms) {
    if (out.state.rooms.count(key) || out.state.upgraded.count(key)) {
      continue;
    }
    if (auto holder = alias_holder.find(want.alias); holder != alias_holder.end()) {
      out.state.alias_clashes[key] = holder->second;
      continue;
    }
    auto resolved = resolve_alias(m_client, want.alias, aliases);
    if (!resolved) {
      model::Error error = model::make_error(resolved.error().kind, resolved.error().message + " (of " + key + ")");
      error.errcode = resolved.error().errcode;
      return tl::unexpected(error);
    }
    // The alias exists but the bot is not in that room with our marker: it
    // is not ours to change (or the bot was removed from it; an operator
    // must decide).
    if (*resolved) {
      out.state.alias_clashes[key] = **resolved;
    }
  }
  return {};
}

model::Result<bool> HttpHomeserver::message_was_sent(const std::string& key, const std::string& room_id,
                                                     const model::OnceMessage& message) {
  nlohmann::json filter = {{"types", {"m.room.message"}}, {"senders", {m_settings.bot_user_id}}};
  const std::string path = api::k_client + "/rooms/" + encode_path_segment(room_id) +
                           "/messages?dir=b&limit=100&filter=" + encode_path_segment(filter.dump());
  auto page = m_client.get(path);
  if (!page) {
    return failed(page.error(), "cannot read the timeline of " + key + " (" + room_id + ")");
  }
  // {start, chunk: [event]}: a page without its chunk is not "no message".
  Answer answer("GET", path, *page);
  auto chunk = answer.field(*page, "", "chunk", JsonType::array);
  model::Result<void> events = chunk ? check_events(answer, **chunk, "chunk", false) : model::Result<void>();
  if (!chunk || !events) {
    model::Error error = !chunk ? chunk.error() : events.error();
    error.message = "cannot read the timeline of " + key + " (" + room_id + "): " + error.message;
    return tl::unexpected(error);
  }
  for (const nlohmann::json& event : **chunk) {
    // The transaction id comes back only to the sender's own device; the
    // body is the fallback for messages sent with another token. Both are
    // read leniently: content is what someone wrote.
    auto unsigned_data = event.find("unsigned");
    bool same_txn = unsigned_data != event.end() && unsigned_data->is_object() &&
                    unsigned_data->value("transaction_id", nlohmann::json()) == message.txn_id;
    if (same_txn || event["content"].value("body", nlohmann::json()) == message.body) {
      return true;
    }
  }
  return false;
}

}  // namespace adapters
