#pragma once
// How long an apply will take when the homeserver rate-limits the bot.
// Synapse limits every client, bots included, unless an admin gave the bot a
// rate-limit override or the bot is an appservice registered with
// `rate_limited: false`; a first apply of a whole instance then takes minutes,
// and the operator should hear that before, not during, the apply.

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

namespace model {
struct Plan;
}

namespace adapters {

/// A Synapse per-user rate-limit override
/// (`GET /_synapse/admin/v1/users/{id}/override_ratelimit`).
struct RateOverride {
  double messages_per_second = 0;
  double burst_count = 0;
};

/// What probe() found out about the bot's rate limits.
struct RateLimits {
  enum class State {
    unknown,    ///< not Synapse, or Synapse would not say (no admin rights)
    unlimited,  ///< override with messages_per_second 0, or appservice with rate_limited: false
    limited,    ///< Synapse's limits apply (the defaults, or `override` for rc_message)
  };
  State state = State::unknown;
  /// A non-zero override: replaces rc_message's rate for the bot.
  std::optional<RateOverride> override_rate;
  /// Who is limited and why, for the note: "@mxctl:example.org has no
  /// rate-limit override on Synapse 1.120.0". Empty unless limited.
  std::string description;
  /// How an operator lifts the limit ("an admin can lift it with ..."); may be empty.
  std::string remedy;
};

/// What a plan asks of the homeserver's rate limiters.
struct WriteLoad {
  std::size_t room_creations = 0;
  std::size_t invites = 0;
  /// Other event-creating writes: state events, messages, kicks.
  std::size_t other_writes = 0;
  /// The most invites into one room, and to one user (0: assume spread out).
  std::size_t max_invites_to_one_room = 0;
  std::size_t max_invites_to_one_user = 0;
};

/// Counts the plan's operations by what limits them. Account operations are
/// not counted (the admin API and appservice registration are not limited
/// by rc_message).
WriteLoad write_load(const model::Plan& plan);

/// Lower bound on how long Synapse's default limits make `load` take, when
/// the bot starts with full buckets (0 when everything fits in the bursts).
/// `override_rate` replaces rc_message's rate, as Synapse does.
std::chrono::seconds estimate_apply_duration(const WriteLoad& load,
                                             const std::optional<RateOverride>& override_rate = std::nullopt);

/// "Note: @mxctl:x has no rate-limit override on Synapse 1.67.0; applying 14
/// rooms and 78 invites may take about 7 minutes (...)" when `limits` says
/// limited and the estimate for `plan` is a minute or more; empty otherwise.
std::string rate_limit_note(const RateLimits& limits, const model::Plan& plan);

/// True when `load` holds any write Synapse's rate limiter counts.
bool writes_anything(const WriteLoad& load);

}  // namespace adapters
