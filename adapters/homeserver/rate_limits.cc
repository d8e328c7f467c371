#include "adapters/homeserver/rate_limits.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>

#include "model/plan.h"

namespace adapters {

namespace {

// Synapse's default limits, from its configuration manual
// (docs/usage/configuration/config_documentation.md in element-hq/synapse):
//
//   rc_message           per_second 0.2    burst_count 10  every event a client
//                        makes: createRoom (one unit since matrix-org/synapse#14314),
//                        state PUTs, messages, and invites and kicks (member events)
//   rc_room_creation     per_second 0.016  burst_count 10  createRoom on top of
//                        rc_message ("1 room per minute", element-hq/synapse#18514,
//                        2025; older releases lack it, so there the estimate can be high)
//   rc_invites.per_room  per_second 0.3    burst_count 10  invites into one room
//   rc_invites.per_user  per_second 0.003  burst_count 5   invites one user *receives*
//
// A per-user override (admin API override_ratelimit) replaces rc_message's rate
// only: Synapse reads that table "specifically for the event sending
// ratelimiter" and uses it for the others just to tell whether the user is
// exempt (messages_per_second 0, see synapse-admin-api/user_admin_api.md).
struct Limit {
  double per_second;
  double burst;
};
constexpr Limit k_rc_message{0.2, 10};
constexpr Limit k_rc_room_creation{0.016, 10};
constexpr Limit k_rc_invites_per_room{0.3, 10};
constexpr Limit k_rc_invites_per_user{0.003, 5};

// Token bucket starting full: the first `burst` actions pass at once, then
// one per 1/per_second seconds.
double seconds_for(std::size_t actions, Limit limit) {
  double beyond = static_cast<double>(actions) - limit.burst;
  if (beyond <= 0 || limit.per_second <= 0) {
    return 0;
  }
  return beyond / limit.per_second;
}

std::string count_of(std::size_t count, const char* one, const char* many) {
  return std::to_string(count) + " " + (count == 1 ? one : many);
}

}  // namespace

WriteLoad write_load(const model::Plan& plan) {
  using Kind = model::Operation::Kind;
  WriteLoad load;
  std::map<std::string, std::size_t> per_room;
  std::map<std::string, std::size_t> per_user;
  for (const model::Operation& op : plan.operations) {
    switch (op.kind) {
      case Kind::create_room: ++load.room_creations; break;
      case Kind::invite:
        ++load.invites;
        load.max_invites_to_one_room = std::max(load.max_invites_to_one_room, ++per_room[op.room_key]);
        load.max_invites_to_one_user = std::max(load.max_invites_to_one_user, ++per_user[op.user_id]);
        break;
      case Kind::set_state:
      case Kind::send_message:
      case Kind::kick:
      case Kind::delete_room:
      case Kind::join_replacement: ++load.other_writes; break;
      // An upgrade creates a room, with its initial state.
      case Kind::upgrade_room: ++load.room_creations; break;
      // Account changes and account data are not under rc_message.
      case Kind::create_account:
      case Kind::update_account:
      case Kind::set_direct:
      case Kind::suspend_account:
      case Kind::reactivate_account: break;
    }
  }
  return load;
}

std::chrono::seconds estimate_apply_duration(const WriteLoad& load, const std::optional<RateOverride>& override_rate) {
  Limit message = k_rc_message;
  if (override_rate && override_rate->messages_per_second > 0) {
    message = {override_rate->messages_per_second, override_rate->burst_count};
  }
  // The limiters drain in parallel while the executor waits out each 429, so
  // the slowest one sets the pace.
  double seconds = seconds_for(load.room_creations + load.invites + load.other_writes, message);
  seconds = std::max(seconds, seconds_for(load.room_creations, k_rc_room_creation));
  seconds = std::max(seconds, seconds_for(load.max_invites_to_one_room, k_rc_invites_per_room));
  seconds = std::max(seconds, seconds_for(load.max_invites_to_one_user, k_rc_invites_per_user));
  return std::chrono::seconds(static_cast<std::int64_t>(std::ceil(seconds)));
}

std::string rate_limit_note(const RateLimits& limits, const model::Plan& plan) {
  if (limits.state != RateLimits::State::limited) {
    return "";
  }
  WriteLoad load = write_load(plan);
  auto seconds = estimate_apply_duration(load, limits.override_rate);
  if (seconds < std::chrono::minutes(1)) {
    return "";
  }
  auto minutes = (seconds.count() + 59) / 60;
  std::string work = count_of(load.room_creations, "room", "rooms");
  if (load.other_writes > 0) {
    work += ", " + count_of(load.invites, "invite", "invites") + " and " +
            count_of(load.other_writes, "other change", "other changes");
  } else {
    work += " and " + count_of(load.invites, "invite", "invites");
  }
  std::string note = "Note: " + limits.description + "; applying " + work + " may take about " +
                     count_of(static_cast<std::size_t>(minutes), "minute", "minutes");
  if (!limits.remedy.empty()) {
    note += " (" + limits.remedy + ")";
  }
  return note;
}

bool writes_anything(const WriteLoad& load) {
  return load.room_creations + load.invites + load.other_writes > 0;
}

}  // namespace adapters
