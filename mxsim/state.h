#pragma once
// The homeserver's whole in-memory state as plain data: accounts, tokens,
// rooms, aliases, filters, transactions. The Homeserver owns one and guards
// it with its lock; the API modules read and change it while holding that lock.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "mxsim/appservice.h"
#include "mxsim/room.h"

namespace mxsim {

/// A per-user rate limit override (Synapse admin override_ratelimit).
struct RateOverride {
  int64_t messages_per_second = 0;
  int64_t burst_count = 0;
};

/// One local account.
struct User {
  std::string user_id;
  std::string password;  ///< "" = no password (login refused)
  bool admin = false;
  bool deactivated = false;
  bool suspended = false;
  bool locked = false;
  bool shadow_banned = false;
  bool erased = false;
  std::optional<std::string> displayname;
  std::optional<std::string> avatar_url;
  std::optional<std::string> user_type;
  std::string appservice_id;  ///< registering appservice, "" if none
  int64_t creation_ts_ms = 0;
  nlohmann::json threepids = nlohmann::json::array();
  nlohmann::json external_ids = nlohmann::json::array();
  std::map<std::string, nlohmann::json> account_data;
  std::map<std::string, int64_t> account_data_stream;  ///< type -> stream position of its last change
  std::map<std::string, std::map<std::string, nlohmann::json>> room_account_data;  ///< room -> type -> content
  std::optional<RateOverride> ratelimit_override;
};

/// One access token and what it stands for.
struct AccessToken {
  std::string user_id;
  std::string device_id;
  std::optional<int64_t> valid_until_ms;
  bool puppet = false;  ///< minted by the admin login-as-user API
};

/// A room alias in the directory.
struct AliasEntry {
  std::string room_id;
  std::string creator;
};

/// A v2 room deletion task (Synapse delete_status).
struct DeleteTask {
  std::string delete_id;
  std::string room_id;
  std::string status;  ///< "complete" once done (the simulator deletes synchronously)
  nlohmann::json shutdown_room = nlohmann::json::object();
};

/// A finished room upgrade, remembered like Synapse's 5-minute upgrade
/// response cache: the same user gets the same answer, others a 400.
struct RecentUpgrade {
  std::string old_room_id;
  std::string user_id;
  std::string new_room_id;
  int64_t until_ms = 0;  ///< forgotten after this time (now_ms())
};

/// Everything the homeserver knows.
struct ServerState {
  std::string server_name;
  std::map<std::string, User> users;
  std::unordered_map<std::string, AccessToken> tokens;
  std::map<std::string, std::unique_ptr<Room>> rooms;
  std::map<std::string, AliasEntry> aliases;
  std::map<std::string, nlohmann::json> filters;  ///< user_id + '\n' + filter_id
  int64_t next_filter_id = 0;
  std::map<std::string, std::string> transactions;  ///< token '\n' route '\n' txn -> event_id
  /// The last id given to an appservice transaction: one sequence for all
  /// services, kept across restarts (Synapse's application_services_txn_id_seq).
  int64_t appservice_txn_last = 0;
  std::map<std::string, DeleteTask> delete_tasks;
  std::set<std::string> blocked_rooms;  ///< rooms shut down with block: true
  std::vector<RecentUpgrade> recent_upgrades;  ///< not persisted, as Synapse keeps it in memory
  std::vector<AppService> appservices;
  int64_t stream = 0;     ///< last stream position handed out
  uint64_t revision = 0;  ///< bumped on every change (persistence watches it)
  /// Called with every committed event (appservice pushes); may be empty.
  std::function<void(const Event&)> on_event;

  /// The account, or nullptr.
  User* find_user(const std::string& user_id);
  /// The room, or nullptr (deleted rooms are gone).
  Room* find_room(const std::string& room_id);
  /// The appservice whose as_token is `token`, or nullptr.
  const AppService* appservice_by_token(const std::string& token) const;
  /// The appservice with `id`, or nullptr.
  const AppService* appservice_by_id(const std::string& id) const;
  /// The appservice with an exclusive user namespace covering `user_id`, or nullptr.
  const AppService* exclusive_user_owner(const std::string& user_id) const;
  /// The appservice with an exclusive alias namespace covering `alias`, or nullptr.
  const AppService* exclusive_alias_owner(const std::string& alias) const;
  /// Next stream position; marks the state changed.
  int64_t advance_stream();
  /// "@localpart:server_name".
  std::string local_user_id(const std::string& localpart) const;
  /// True when `user_id` is on this server.
  bool is_local_user(const std::string& user_id) const;
  /// Creates a fresh access token for `user_id` and returns it.
  std::string mint_token(const std::string& user_id, const std::string& device_id, bool puppet = false,
                         std::optional<int64_t> valid_until_ms = std::nullopt);

  /// Fills in ids and timestamp, checks the auth rules (throws MatrixError),
  /// assigns the next stream position and appends `event` to `room`.
  const Event& commit_event(Room& room, Event event);
};

}  // namespace mxsim
