#include "mxsim/homeserver.h"

#include <thread>
#include <tuple>

#include "mxsim/errors.h"
#include "mxsim/ids.h"
#include "mxsim/routes.h"

namespace mxsim {

namespace {

std::string decoded_path(const ApiRequest& request) {
  std::string path;
  for (const auto& segment : request.segments) {
    path += '/';
    path += segment;
  }
  return path.empty() ? "/" : path;
}

bool is_write_method(const std::string& method) { return method != "GET" && method != "HEAD" && method != "OPTIONS"; }

}  // namespace

Homeserver::Homeserver(HomeserverSettings settings)
    : m_settings(std::move(settings)), m_appservice_client(std::make_unique<AppServiceClient>()) {
  m_state.server_name = m_settings.server_name;
  m_state.on_event = [this](const Event& event) {
    ForkSimulator::on_commit(m_state, event);
    route_event_to_appservices(event);
  };
  add_client_account_routes(*this, m_router);
  add_client_profile_routes(*this, m_router);
  add_client_directory_routes(*this, m_router);
  add_client_room_routes(*this, m_router);
  add_client_membership_routes(*this, m_router);
  add_sync_routes(*this, m_router);
  add_admin_routes(*this, m_router);
  m_appservice_client->set_txn_allocator([this] {
    auto lock = write_lock();
    ++m_state.revision;
    return static_cast<uint64_t>(++m_state.appservice_txn_last);
  });
}

Homeserver::~Homeserver() { m_appservice_client->stop(); }

std::string Homeserver::add_user(const std::string& localpart, const std::string& password, bool admin) {
  std::string user_id;
  {
    auto lock = write_lock();
    if (auto problem = localpart_problem(localpart, m_state.server_name)) {
      throw MatrixError(400, "M_INVALID_USERNAME", *problem);
    }
    user_id = m_state.local_user_id(localpart);
    if (m_state.find_user(user_id)) {
      throw MatrixError(400, "M_USER_IN_USE", "User ID already taken.");
    }
    // Synapse's register_new_matrix_user goes through check_username too.
    if (m_state.exclusive_user_owner(user_id)) {
      throw MatrixError(400, "M_EXCLUSIVE", "This user ID is reserved by an application service.");
    }
    User user;
    user.user_id = user_id;
    user.password = password;
    user.admin = admin;
    user.creation_ts_ms = now_ms();
    // Synapse's register_user gives new accounts their localpart as display name.
    user.displayname = localpart;
    m_state.users[user_id] = std::move(user);
    m_state.advance_stream();
  }
  notify_change();
  return user_id;
}

std::string Homeserver::issue_token(const std::string& user_id) {
  auto lock = write_lock();
  User* user = m_state.find_user(user_id);
  if (!user) {
    throw not_found("User not found");
  }
  return m_state.mint_token(user_id, random_string(10));
}

void Homeserver::install_token(const std::string& user_id, const std::string& token) {
  auto lock = write_lock();
  if (!m_state.find_user(user_id)) {
    throw not_found("User not found");
  }
  m_state.tokens[token] = AccessToken{user_id, "mxsim_admin", std::nullopt, false};
  ++m_state.revision;
}

void Homeserver::add_appservice(AppService service) {
  auto lock = write_lock();
  for (const auto& existing : m_state.appservices) {
    if (existing.id == service.id || existing.as_token == service.as_token) {
      throw unknown_error(400, "Appservice " + service.id + " is already registered (same id or as_token)");
    }
  }
  std::string sender = service.sender(m_state.server_name);
  if (!m_state.find_user(sender)) {
    User user;
    user.user_id = sender;
    user.appservice_id = service.id;
    user.creation_ts_ms = now_ms();
    m_state.users[sender] = std::move(user);
  }
  m_state.appservices.push_back(std::move(service));
  ++m_state.revision;
}

uint64_t Homeserver::revision() {
  auto lock = read_lock();
  return m_state.revision;
}

bool Homeserver::wait_for_stream(std::shared_lock<std::shared_mutex>& lock, int64_t since,
                                 std::chrono::milliseconds timeout) {
  m_changed.wait_for(lock, timeout, [&] { return m_state.stream > since || m_stopping; });
  return m_state.stream > since;
}

void Homeserver::set_stopping(bool stopping) {
  {
    // Taking the lock orders the flag with waiters between predicate and wait.
    auto lock = write_lock();
    m_stopping = stopping;
  }
  m_changed.notify_all();
}

std::optional<std::optional<RateOverride>> Homeserver::rate_limits_for(const Requester& requester) {
  if (!requester.appservice_id.empty()) {
    const AppService* service = m_state.appservice_by_id(requester.appservice_id);
    if (service && !service->rate_limited) {
      return std::nullopt;
    }
  }
  std::optional<RateOverride> override_rate;
  if (User* user = m_state.find_user(requester.user_id)) {
    override_rate = user->ratelimit_override;
  }
  return override_rate;
}

void Homeserver::check_rate(const std::string& action, const Requester& requester) {
  const auto limits = rate_limits_for(requester);
  if (!limits) {
    return;
  }
  int64_t retry_after_ms = m_rate_limiter.check(action, requester.user_id, *limits);
  if (retry_after_ms > 0) {
    throw limit_exceeded(retry_after_ms);
  }
}

void Homeserver::check_invite_count(const Requester& requester, std::size_t invites) {
  const auto limits = invites == 0 ? std::nullopt : rate_limits_for(requester);
  if (limits && !m_rate_limiter.allows_at_once("invites_per_room", invites, *limits)) {
    throw unknown_error(400, "Cannot invite so many users at once");
  }
}

void Homeserver::route_event_to_appservices(const Event& event) {
  // Called under the write lock from commit_event: the state may be read.
  for (const AppService& service : m_state.appservices) {
    if (service.url.empty()) {
      continue;
    }
    bool interested = service.interested_in_user(event.sender, m_state.server_name) ||
                      service.interested_in_room(event.room_id) ||
                      (event.type == "m.room.member" && event.state_key &&
                       service.interested_in_user(*event.state_key, m_state.server_name));
    if (!interested) {
      // Like Synapse, a service also hears rooms its users are joined to.
      if (Room* room = m_state.find_room(event.room_id)) {
        for (const auto& member : room->users_with("join")) {
          if (service.interested_in_user(member, m_state.server_name)) {
            interested = true;
            break;
          }
        }
      }
    }
    if (!interested && !service.aliases.empty()) {
      for (const auto& [alias, entry] : m_state.aliases) {
        if (entry.room_id == event.room_id && service.interested_in_alias(alias)) {
          interested = true;
          break;
        }
      }
    }
    if (interested) {
      m_appservice_client->enqueue(service, event.to_client(true));
    }
  }
}

std::optional<RoomWrite> Homeserver::begin_room_write(const RouteMatch& match) {
  ForkSettings forks = m_forks.settings();
  if (!forks.enabled || match.kind != RouteMatch::Kind::found) {
    return std::nullopt;
  }
  std::optional<std::string> room_id = room_written(match.route, match.params);
  if (!room_id) {
    return std::nullopt;
  }
  RoomWrite write;
  write.room_id = *room_id;
  {
    auto lock = read_lock();
    if (Room* room = m_state.find_room(*room_id)) {
      write.parent_stream = room->last_stream();
    }
  }
  // In flight on that parent: a write to the room sent meanwhile forks it.
  std::this_thread::sleep_for(std::chrono::milliseconds(forks.hold_ms));
  return write;
}

std::pair<std::string, std::string> Homeserver::journal_user(const ApiRequest& request) {
  std::optional<std::string> token = request.access_token();
  if (!token) {
    return {};
  }
  auto lock = read_lock();
  if (const AppService* service = m_state.appservice_by_token(*token)) {
    return {request.query_param("user_id").value_or(service->sender(m_state.server_name)), ""};
  }
  auto it = m_state.tokens.find(*token);
  if (it == m_state.tokens.end()) {
    return {};
  }
  return {it->second.user_id, it->second.device_id};
}

ApiResponse Homeserver::handle(const ApiRequest& request) {
  if (!request.segments.empty() && request.segments[0] == "_mxsim") {
    try {
      return handle_control_request(*this, request);
    } catch (const MatrixError& error) {
      return ApiResponse::json(error.status(), error.body());
    } catch (const std::exception& error) {
      return ApiResponse::json(500, {{"errcode", "M_UNKNOWN"}, {"error", error.what()}});
    }
  }
  auto started = std::chrono::steady_clock::now();
  JournalEntry entry;
  entry.ts_ms = now_ms();
  entry.method = request.method;
  entry.path = decoded_path(request);
  entry.write = is_write_method(request.method);

  RouteMatch match = m_router.match(request);
  entry.route = match.route;
  ApiResponse response;
  // The fixed delay models latency, not a fault: it is not journaled as one
  // and, like a fault's delay, is slept before the lock is taken, so
  // concurrent requests overlap their waits as they would on a network.
  if (int64_t delay_ms = m_request_delay_ms.load(); delay_ms > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
  }
  std::optional<FaultDecision> fault = m_faults.take(request.method, request.path, entry.path);
  if (fault && fault->delay_ms > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(fault->delay_ms));
  }
  if (fault && fault->response) {
    entry.fault = true;
    response = *fault->response;
  } else {
    if (fault) {
      entry.fault = true;
    }
    std::optional<ForkSimulator::Scope> room_write;
    if (std::optional<RoomWrite> write = begin_room_write(match)) {
      room_write.emplace(std::move(*write));
    }
    try {
      if (request.method == "OPTIONS") {
        response = ApiResponse::json(200, nlohmann::json::object());
      } else if (match.kind == RouteMatch::Kind::found) {
        response = (*match.handler)(request, match.params);
      } else if (match.kind == RouteMatch::Kind::wrong_method) {
        throw MatrixError(405, "M_UNRECOGNIZED", "Unrecognized request");
      } else {
        throw MatrixError(404, "M_UNRECOGNIZED", "Unrecognized request");
      }
    } catch (const MatrixError& error) {
      response = ApiResponse::json(error.status(), error.body());
      if (error.status() == 429 && error.extra().contains("retry_after_ms")) {
        int64_t ms = error.extra().at("retry_after_ms").get<int64_t>();
        response.headers.emplace_back("Retry-After", std::to_string((ms + 999) / 1000));
      }
    } catch (const nlohmann::json::exception& error) {
      response = ApiResponse::json(400, {{"errcode", "M_BAD_JSON"}, {"error", error.what()}});
    } catch (const std::exception& error) {
      response = ApiResponse::json(500, {{"errcode", "M_UNKNOWN"}, {"error", std::string("Internal server error: ") + error.what()}});
    }
  }
  if (entry.write) {
    // Wake /sync long-polls; cheaper than tracking which handlers changed state.
    notify_change();
  }
  entry.status = response.drop_connection ? 0 : response.status;
  std::tie(entry.user_id, entry.device_id) = journal_user(request);
  entry.duration_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  m_journal.record(std::move(entry));
  return response;
}

}  // namespace mxsim
