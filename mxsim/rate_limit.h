#pragma once
// Rate limiting like Synapse's ratelimiters: a token bucket per (action, user)
// refilled at `per_second` up to `burst`. Off by default so ordinary tests are
// not throttled; switch it on to test clients' 429 handling.

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "mxsim/state.h"

namespace mxsim {

/// One limiter's parameters.
struct RateLimitSettings {
  double per_second = 0.2;
  double burst = 10;
};

/// Thread-safe limiter set. Actions used by the API: "message" (send, state,
/// redact, createRoom — Synapse's rc_message), "invite" (rc_invites per user),
/// "invites_per_room" (rc_invites.per_room: only its burst, which bounds a
/// createRoom's invites), "join" (rc_joins local), "login" (rc_login).
class RateLimiter {
 public:
  /// Starts disabled, with Synapse's default rates for each action.
  RateLimiter();

  /// Turns limiting on or off (off: every check passes).
  void set_enabled(bool enabled);
  /// True when limiting is on.
  bool enabled() const;
  /// Sets the rate of `action` (unknown actions are added).
  void configure(const std::string& action, RateLimitSettings settings);
  /// Returns 0 and uses one slot when `key` may do `action` now; otherwise
  /// the milliseconds until it may (nothing used). An override replaces the
  /// rate; an override of 0/0 exempts the key.
  int64_t check(const std::string& action, const std::string& key,
                const std::optional<RateOverride>& override_rate = std::nullopt);
  /// Whether `key` may do `count` of `action` at once: at most its burst
  /// (Synapse's check of a createRoom's invites, which uses no slot).
  bool allows_at_once(const std::string& action, std::size_t count,
                      const std::optional<RateOverride>& override_rate = std::nullopt) const;
  /// Forgets every bucket (limits stay configured).
  void reset_buckets();
  /// {"enabled": bool, "actions": {name: {"per_second", "burst"}}}
  nlohmann::json to_json() const;
  /// Applies the control endpoint's JSON (same shape as to_json, all keys optional).
  void apply_json(const nlohmann::json& json);

 private:
  /// With the lock held: the limits of `action` for a requester with
  /// `override_rate`; none when limiting is off, the action unknown or the
  /// requester exempt (a 0/0 override, or limits of 0/0).
  std::optional<RateLimitSettings> limits_for(const std::string& action,
                                              const std::optional<RateOverride>& override_rate) const;
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point updated;
  };
  mutable std::mutex m_mutex;
  bool m_enabled = false;
  std::map<std::string, RateLimitSettings> m_settings;
  std::map<std::string, Bucket> m_buckets;  ///< action '\n' key
};

}  // namespace mxsim
