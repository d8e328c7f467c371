#pragma once
// The whole simulated homeserver in memory: state, the lock around it, the
// route table and the request pipeline (faults -> handler -> journal). The
// Server puts it on HTTP; tests may also use it directly.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <condition_variable>
#include <string>
#include <utility>

#include "mxsim/access.h"
#include "mxsim/appservice.h"
#include "mxsim/appservice_client.h"
#include "mxsim/faults.h"
#include "mxsim/federation.h"
#include "mxsim/forks.h"
#include "mxsim/journal.h"
#include "mxsim/rate_limit.h"
#include "mxsim/request.h"
#include "mxsim/router.h"
#include "mxsim/state.h"
#include "mxsim/sync.h"

namespace mxsim {

/// Behaviour switches; the defaults imitate Synapse as observed.
struct HomeserverSettings {
  std::string server_name = "mxsim.test";
  /// Room version for createRoom without `room_version` (Synapse's current default).
  std::string default_room_version = "10";
  /// What GET /_synapse/admin/v1/server_version reports.
  std::string server_version = "1.67.0 (mxsim)";
  /// false: answer the suspend API with 400 M_UNRECOGNIZED like Synapse 1.67.
  bool suspend_api = true;
  /// false: no `locked` account flag, like Synapse before 1.93 (PUT
  /// v2/users accepts and ignores it; account details leave it out).
  bool locked_flag = true;
  /// How long an identical /sync answer is reused (Synapse: 2 minutes); 0 disables.
  int64_t sync_cache_ms = 120000;
  /// An extra bearer token accepted by the /_mxsim control endpoint ("" = admins only).
  std::string control_token;
};

/// An in-memory Matrix homeserver. Thread-safe: every public member may be
/// called from any thread.
class Homeserver {
 public:
  /// An empty server named `settings.server_name` with the default routes.
  explicit Homeserver(HomeserverSettings settings = {});
  ~Homeserver();
  Homeserver(const Homeserver&) = delete;
  Homeserver& operator=(const Homeserver&) = delete;

  /// The settings given at construction.
  const HomeserverSettings& settings() const { return m_settings; }
  /// The settings for changing; only change them before requests are served.
  HomeserverSettings& mutable_settings() { return m_settings; }
  /// The server name (the part after ':' in ids).
  const std::string& server_name() const { return m_settings.server_name; }

  /// Creates a local account directly (like Synapse's register_new_matrix_user); returns its user id.
  /// Throws MatrixError 400 M_INVALID_USERNAME for a bad localpart and M_USER_IN_USE when taken.
  std::string add_user(const std::string& localpart, const std::string& password, bool admin);
  /// Mints a new access token for an existing user (as a login would); returns it.
  /// Throws MatrixError 404 M_NOT_FOUND when the user does not exist.
  std::string issue_token(const std::string& user_id);
  /// Makes `token` an access token of the existing `user_id` (e.g. a token
  /// kept in a file across restarts). Throws MatrixError 404 for unknown users.
  void install_token(const std::string& user_id, const std::string& token);
  /// Registers an application service (and creates its sender account).
  /// Throws MatrixError 400 when its id or as_token is already registered.
  void add_appservice(AppService service);

  /// Answers one request: fault injection, routing, the handler, error
  /// mapping and the journal. Never throws.
  ApiResponse handle(const ApiRequest& request);

  /// Fault rules applied to incoming requests.
  FaultInjector& faults() { return m_faults; }
  /// Forked room writes (off until enabled; see forks.h).
  ForkSimulator& forks() { return m_forks; }
  /// Remote servers that cannot be reached (none until listed).
  Federation& federation() { return m_federation; }
  /// The journal of answered requests and its counters.
  Journal& journal() { return m_journal; }
  /// Rate limiting (off until enabled).
  RateLimiter& rate_limiter() { return m_rate_limiter; }
  /// Outgoing calls to application services (queries and transaction pushes).
  AppServiceClient& appservice_client() { return *m_appservice_client; }

  /// A counter bumped on every state change (for "save when changed").
  uint64_t revision();

  /// The state; only touch it while holding write_lock() or read_lock().
  ServerState& state() { return m_state; }
  /// Exclusive lock for changes.
  std::unique_lock<std::shared_mutex> write_lock() { return std::unique_lock(m_mutex); }
  /// Shared lock for reads.
  std::shared_lock<std::shared_mutex> read_lock() { return std::shared_lock(m_mutex); }
  /// Waits (releasing `lock` meanwhile) until the stream passes `since` or
  /// `timeout` elapses; true when it passed.
  bool wait_for_stream(std::shared_lock<std::shared_mutex>& lock, int64_t since, std::chrono::milliseconds timeout);
  /// Wakes /sync long-polls; call after changing state (write lock released or held).
  void notify_change() { m_changed.notify_all(); }
  /// Ends every /sync long-poll at once (and makes new ones return
  /// immediately) so the HTTP server can stop without waiting for timeouts;
  /// `stopping` false undoes it for a restart.
  void set_stopping(bool stopping);
  /// True between set_stopping(true) and set_stopping(false).
  bool stopping() const { return m_stopping; }
  /// Throws 429 M_LIMIT_EXCEEDED when `requester` may not do `action` now
  /// (appservices with rate_limited: false and 0/0 overrides are exempt).
  void check_rate(const std::string& action, const Requester& requester);
  /// Throws 400 "Cannot invite so many users at once" when a createRoom of
  /// `requester` invites more than the per-room invite burst (Synapse's
  /// check; the same exemptions as check_rate).
  void check_invite_count(const Requester& requester, std::size_t invites);
  /// The rate-limit override that applies to `requester` (none: Synapse's
  /// defaults); no value at all when it is exempt (an appservice with
  /// rate_limited: false).
  std::optional<std::optional<RateOverride>> rate_limits_for(const Requester& requester);
  /// Cached /sync answers.
  SyncCache& sync_cache() { return m_sync_cache; }
  /// Makes every client-server and admin request (not /_mxsim) wait `delay`
  /// before it is handled, without holding the state lock, like a server
  /// across a network; 0 (the default) turns it off. Any time, any thread.
  void set_request_delay(std::chrono::milliseconds delay) { m_request_delay_ms = delay.count(); }
  /// The delay set by set_request_delay().
  std::chrono::milliseconds request_delay() const { return std::chrono::milliseconds(m_request_delay_ms.load()); }
  /// A fault mode: createRoom takes `lag` to persist the room, as Synapse
  /// does (100-200 ms seen). The alias resolves at once, while the room has
  /// no event (state reads: 403, not in room) for the first half and no
  /// initial_state (an ownership marker, say) for the second; the request is
  /// answered after both. 0 (the default) creates a room in one step.
  void set_creation_lag(std::chrono::milliseconds lag) { m_creation_lag_ms = lag.count(); }
  /// The lag set by set_creation_lag().
  std::chrono::milliseconds creation_lag() const { return std::chrono::milliseconds(m_creation_lag_ms.load()); }

 private:
  void route_event_to_appservices(const Event& event);
  std::optional<RoomWrite> begin_room_write(const RouteMatch& match);
  // Who made the request, as the journal records it: user id and device
  // (empty when unauthenticated; an appservice has no device).
  std::pair<std::string, std::string> journal_user(const ApiRequest& request);

  HomeserverSettings m_settings;
  std::shared_mutex m_mutex;
  std::condition_variable_any m_changed;
  std::atomic<bool> m_stopping{false};
  std::atomic<int64_t> m_request_delay_ms{0};
  std::atomic<int64_t> m_creation_lag_ms{0};
  ServerState m_state;
  Router m_router;
  FaultInjector m_faults;
  ForkSimulator m_forks;
  Federation m_federation;
  Journal m_journal;
  RateLimiter m_rate_limiter;
  SyncCache m_sync_cache;
  std::unique_ptr<AppServiceClient> m_appservice_client;
};

}  // namespace mxsim
