#pragma once
// HomeserverPort over HTTP: the Matrix client-server API v3 for rooms, and
// for accounts either Synapse's admin API or an appservice registration
// (account_provisioning.h). Capabilities are probed, not assumed.

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "adapters/homeserver_port.h"
#include "adapters/homeserver/matrix_client.h"
#include "adapters/homeserver/own_creation.h"
#include "adapters/homeserver/own_writes.h"
#include "adapters/homeserver/room_lookup.h"
#include "adapters/homeserver/rate_limits.h"
#include "adapters/homeserver/remembered_observation.h"
#include "model/settings.h"

namespace adapters {

/// What the homeserver turned out to be.
struct Capabilities {
  /// The bot's own id as the server knows it (whoami).
  std::string user_id;
  /// "Synapse 1.120.0" when the Synapse admin API answered; empty otherwise.
  std::string synapse_version;
  /// The bot may use the Synapse admin API.
  bool server_admin = false;
  /// Client-server spec versions the server advertises.
  std::vector<std::string> versions;
  /// Whether the homeserver rate-limits the bot (for rate_limit_note()).
  RateLimits rate_limits;
};

/// A client's options from the settings' bounds (timeouts, answer sizes,
/// caFile), with the pass deadline `pass_timeout_minutes` after
/// `pass_started`.
ClientOptions client_options(const model::Settings& settings, std::chrono::steady_clock::time_point pass_started);

/// The real homeserver.
class HttpHomeserver : public HomeserverPort {
 public:
  HttpHomeserver(model::Settings settings, std::string access_token, ClientOptions options = {});

  /// Who we are and what the server offers. Fails (forbidden) when the token
  /// is rejected or belongs to another user than settings.bot_user_id, and
  /// when synapse-admin provisioning is configured but unavailable.
  /// Appservice provisioning needs no admin API (whoami with the as_token
  /// names the appservice's sender). On Synapse, a bot with admin rights has
  /// its rate-limit override read; an appservice registered with
  /// `rate_limited: false` is unlimited. The answer is also kept for
  /// capabilities().
  model::Result<Capabilities> probe();

  /// What the last successful probe() found, or what assume() was given;
  /// defaults before either.
  const Capabilities& capabilities() const { return m_capabilities; }
  /// Takes `caps` (a recent probe's answer, kept in the store) instead of
  /// probing; its rate limits are asked when rate_limits() is. An observe()
  /// the server then refuses (401, 403 or 404) probes afresh, so that its
  /// error says what probe() would have said.
  void assume(Capabilities caps) {
    m_capabilities = std::move(caps);
    m_assumed = true;
    m_rate_limits_known = false;
  }
  /// The bot's rate limits: from the probe, or, after assume(), asked now
  /// (once): an operator who lifts a limit sees the next plan say so.
  const RateLimits& rate_limits();

  model::Result<Observation> observe(const model::MatrixState& desired, const ObserveHints& hints) override;
  /// Replays `replay`'s reads first (a changed answer settles it without a
  /// /sync), then asks /sync for changes; never for an appservice, a port
  /// that remembers its observations, or hints with rooms to re-read.
  model::Result<std::optional<std::string>> unchanged_since(const ObserveHints& hints,
                                                            const ReadReplay& replay) override;
  /// The build and settings (m_read_basis) and who the probe found the bot
  /// and the server to be; empty when the build has no id.
  std::string observation_basis() const override;
  model::Result<OperationOutcome> execute(const model::Operation& operation,
                                          const ExecutionContext& context) override;

  /// Requests made so far.
  ClientStats stats() const { return m_client.stats(); }
  /// The deadline of the next pass (a long-running controller's passes
  /// each have their own). Only between passes.
  void set_pass_deadline(std::optional<std::chrono::steady_clock::time_point> deadline) {
    m_client.set_deadline(deadline);
  }
  /// Ends every request in flight and refuses later ones (shutdown after
  /// the grace period); see MatrixClient::cancel.
  void cancel() { m_client.cancel(); }

  /// Keeps what each observation found in memory for the next one (a
  /// long-running controller, remembered_observation.h): the next observe()
  /// whose hints carry the same sync token folds /sync's changes into the
  /// rooms it read instead of parsing every stored snapshot. Off by default:
  /// a single pass would only pay for it.
  void set_remember_observation(bool remember) {
    m_remember = remember;
    m_remembered.forget();
    m_remembered_accounts.forget();
  }
  /// From now on, records in `own` what each write produced, so a change
  /// feed can tell it from drift (own_writes.h); `own` must outlive this.
  void record_own_writes(OwnWrites* own) { m_own_writes = own; }
  /// Whether the next observations are targeted: woken by changes to rooms,
  /// they may take the accounts from the last observation when nothing
  /// since suggests an account changed (see remembered_observation.h). Only
  /// with set_remember_observation(true); only between passes.
  void set_targeted_observation(bool targeted) { m_targeted = targeted; }
  bool holds_room_state(const std::string& sync_token) const override;

  /// How long a room mxctl may have just created (its alias taken, its
  /// marker not readable yet) is waited for; see own_creation.h.
  void set_creation_wait(CreationWait wait) { m_creation_wait = wait; }

 private:
  RateLimits probe_rate_limits(const Capabilities& caps);
  /// Fills in caps' synapse_version and server_admin. With synapse-admin
  /// provisioning, an admin API that is absent, refused to the bot or
  /// failing is an error that says which (http_homeserver_probe.cc).
  model::Result<void> probe_admin_api(Capabilities& caps);
  // Observation (http_homeserver_observe.cc).
  /// observe() itself, with the capabilities it was given; sets the
  /// observation's replay when it qualifies.
  model::Result<Observation> observe_once(const model::MatrixState& desired, const ObserveHints& hints);
  /// observe_once() without the replay.
  model::Result<Observation> observe_without_replay(const model::MatrixState& desired, const ObserveHints& hints);
  /// Reads the bot's rooms (read_rooms, claim_own_rooms), sets `out`'s
  /// token and snapshots and, when remembering, keeps the rooms read.
  model::Result<BotRooms> read_all_rooms(const model::MatrixState& desired, const ObserveHints& hints,
                                         AliasLookups& aliases, Observation& out);
  /// The accounts, observed or (a targeted pass) recalled.
  model::Result<void> observe_or_recall_accounts(const model::MatrixState& desired, const ObserveHints& hints,
                                                 const BotRooms& read, model::ObservedState& out);
  /// Sorts the rooms read into `out`: managed rooms by marker, alias
  /// clashes, once-messages and m.direct entries.
  model::Result<void> observe_rooms(const model::MatrixState& desired, const ObserveHints& hints, BotRooms& read,
                                    AliasLookups& aliases, Observation& out);
  bool remembers_rooms() const;
  /// Every room the bot is in (/sync), the rooms written re-read; or, for
  /// an appservice, the managed rooms one by one.
  model::Result<BotRooms> read_rooms(const model::MatrixState& desired, const ObserveHints& hints,
                                     AliasLookups& aliases);
  /// Adds to `read` the rooms mxctl created (`rooms_created` has the key)
  /// that hold a desired alias but whose marker was not readable yet,
  /// once their marker shows (await_own_room).
  model::Result<void> claim_own_rooms(const model::MatrixState& desired, const std::set<std::string>& rooms_created,
                                      BotRooms& read, AliasLookups& aliases);
  /// The snapshots an observation with `hints` folds /sync's changes into:
  /// the remembered ones when they are behind its token, else the store's.
  SnapshotBase snapshots_behind(const ObserveHints& hints) const;
  model::Result<bool> message_was_sent(const std::string& key, const std::string& room_id,
                                       const model::OnceMessage& message);
  /// createRoom with the operation's invitees in it; the invites follow one
  /// by one when the server refuses that many at once, and are repeated
  /// when an earlier attempt's room is adopted.
  model::Result<OperationOutcome> create_room(const model::Operation& operation, const model::Room& room,
                                              const ExecutionContext& context);
  /// Synapse's answer to a createRoom inviting more than its per-room
  /// invite burst: 400 "Cannot invite so many users at once".
  static bool refused_invite_count(const MatrixFailure& failure);
  /// Invites `create`'s invitees into `room_id` one by one.
  model::Result<void> invite_each(const model::Operation& create, const model::Room& room, const std::string& room_id);
  /// After M_ROOM_IN_USE: the room holding the alias if it is ours (its
  /// marker, waited for when `may_be_ours`), else a conflict.
  model::Result<OperationOutcome> adopt_existing(const model::Room& room, bool may_be_ours);
  model::Result<OperationOutcome> membership(const model::Operation& operation, const model::Room& room,
                                             const ExecutionContext& context);
  /// Invites (`invite`) or kicks `user_id` in `room_id`; a user already in
  /// (or out of) the room is done, an unreachable remote server is said so.
  /// An invite into a DM (`room.is_direct`) carries `is_direct`.
  model::Result<OperationOutcome> change_membership(const std::string& room_id, const model::Room& room,
                                                    const std::string& user_id, bool invite,
                                                    const std::string& description);
  model::Result<OperationOutcome> set_state(const model::Operation& operation, const model::Room& room,
                                            const ExecutionContext& context);
  /// Lists the DM in the participant's m.direct (http_homeserver_direct.cc).
  model::Result<OperationOutcome> set_direct(const model::Operation& operation, const model::Room& room,
                                             const ExecutionContext& context);
  /// Whether `user_id`'s m.direct already lists the DM (for a lost store).
  model::Result<bool> direct_is_set(const model::Room& room, const std::string& room_id, const std::string& user_id,
                                    const model::MatrixState& desired);
  /// Hard-deletes a room (http_homeserver_lifecycle.cc): Synapse's admin
  /// delete with purge, or the portable unlink/unalias/kick/leave.
  model::Result<OperationOutcome> delete_room(const model::Operation& operation, const ExecutionContext& context);
  /// Synapse's v2 delete with purge, polled until complete.
  model::Result<OperationOutcome> purge_room(const model::Operation& operation, const std::string& room_id);
  /// Upgrades the operation's room to `room`'s version; the outcome names
  /// the new room (http_homeserver_upgrade.cc).
  model::Result<OperationOutcome> upgrade_room(const model::Operation& operation, const model::Room& room,
                                               const ExecutionContext& context);
  /// Joins the room that replaced the operation's upgraded room.
  model::Result<OperationOutcome> join_replacement(const model::Operation& operation);
  /// Suspends (or reactivates) the operation's account.
  model::Result<OperationOutcome> set_suspended(const model::Operation& operation, bool suspend);
  model::Result<std::set<std::string>> creators_of(const std::string& room_id, const model::Room& room);

  model::Settings m_settings;
  /// What the digests of kept room reads start from: this build and the
  /// settings (empty when the build has no id: reads are then not kept).
  std::string m_read_basis;
  MatrixClient m_client;
  Capabilities m_capabilities;
  bool m_assumed = false;
  bool m_rate_limits_known = false;
  /// Creators of the observed rooms whose version gives creators unlimited
  /// power (room version 12), by room id; execute() leaves them out of
  /// power levels it writes. Guarded: execute() runs concurrently.
  std::mutex m_creators_mutex;
  std::map<std::string, std::set<std::string>> m_creators;
  /// Keys of rooms mxctl may have created: from its journal (the last
  /// observation's hints) and the createRoom requests of this process.
  std::mutex m_creation_mutex;
  std::set<std::string> m_rooms_created;
  CreationWait m_creation_wait;
  bool m_remember = false;
  bool m_targeted = false;
  RememberedRooms m_remembered;
  RememberedAccounts m_remembered_accounts;
  /// Rooms an unchanged_since() /sync found changed, for the observe() with
  /// the same token (`since`), which takes them instead of asking again.
  struct PendingRooms {
    std::string since;
    BotRooms rooms;
  };
  std::optional<PendingRooms> m_pending_rooms;
  OwnWrites* m_own_writes = nullptr;
};

}  // namespace adapters
