#include "mxsim/rate_limit.h"

#include <algorithm>
#include <cmath>

#include "mxsim/errors.h"

namespace mxsim {

RateLimiter::RateLimiter() {
  // Synapse's defaults (rc_message, rc_invites.per_user, rc_joins.local, rc_login.account).
  m_settings["message"] = {0.2, 10};
  m_settings["invite"] = {0.003, 5};
  m_settings["invites_per_room"] = {0.3, 10};
  m_settings["join"] = {0.1, 10};
  m_settings["login"] = {0.17, 3};
}

void RateLimiter::set_enabled(bool enabled) {
  std::lock_guard lock(m_mutex);
  m_enabled = enabled;
  m_buckets.clear();
}

bool RateLimiter::enabled() const {
  std::lock_guard lock(m_mutex);
  return m_enabled;
}

void RateLimiter::configure(const std::string& action, RateLimitSettings settings) {
  std::lock_guard lock(m_mutex);
  m_settings[action] = settings;
  m_buckets.clear();
}

std::optional<RateLimitSettings> RateLimiter::limits_for(const std::string& action,
                                                        const std::optional<RateOverride>& override_rate) const {
  auto found = m_settings.find(action);
  if (!m_enabled || found == m_settings.end()) {
    return std::nullopt;
  }
  RateLimitSettings settings = found->second;
  if (override_rate) {
    if (override_rate->messages_per_second == 0 && override_rate->burst_count == 0) {
      return std::nullopt;
    }
    settings.per_second = static_cast<double>(override_rate->messages_per_second);
    settings.burst = static_cast<double>(override_rate->burst_count);
  }
  if (settings.per_second <= 0 && settings.burst <= 0) {
    return std::nullopt;
  }
  return settings;
}

int64_t RateLimiter::check(const std::string& action, const std::string& key,
                           const std::optional<RateOverride>& override_rate) {
  std::lock_guard lock(m_mutex);
  const std::optional<RateLimitSettings> limits = limits_for(action, override_rate);
  if (!limits) {
    return 0;
  }
  const RateLimitSettings& settings = *limits;
  auto now = std::chrono::steady_clock::now();
  auto [it, inserted] = m_buckets.try_emplace(action + '\n' + key);
  Bucket& bucket = it->second;
  if (inserted) {
    bucket.tokens = settings.burst;
    bucket.updated = now;
  } else {
    double elapsed = std::chrono::duration<double>(now - bucket.updated).count();
    bucket.tokens = std::min(settings.burst, bucket.tokens + elapsed * settings.per_second);
    bucket.updated = now;
  }
  if (bucket.tokens >= 1.0) {
    bucket.tokens -= 1.0;
    return 0;
  }
  if (settings.per_second <= 0) {
    return 60 * 60 * 1000;
  }
  double wait_seconds = (1.0 - bucket.tokens) / settings.per_second;
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(wait_seconds * 1000)));
}

bool RateLimiter::allows_at_once(const std::string& action, std::size_t count,
                                 const std::optional<RateOverride>& override_rate) const {
  std::lock_guard lock(m_mutex);
  const std::optional<RateLimitSettings> limits = limits_for(action, override_rate);
  return !limits || static_cast<double>(count) <= limits->burst;
}

void RateLimiter::reset_buckets() {
  std::lock_guard lock(m_mutex);
  m_buckets.clear();
}

nlohmann::json RateLimiter::to_json() const {
  std::lock_guard lock(m_mutex);
  nlohmann::json actions = nlohmann::json::object();
  for (const auto& [name, settings] : m_settings) {
    actions[name] = {{"per_second", settings.per_second}, {"burst", settings.burst}};
  }
  return {{"enabled", m_enabled}, {"actions", actions}};
}

void RateLimiter::apply_json(const nlohmann::json& json) {
  try {
    std::lock_guard lock(m_mutex);
    if (json.contains("enabled")) {
      m_enabled = json.at("enabled").get<bool>();
    }
    if (json.contains("actions")) {
      for (auto it = json.at("actions").begin(); it != json.at("actions").end(); ++it) {
        RateLimitSettings settings = m_settings[it.key()];
        settings.per_second = it.value().value("per_second", settings.per_second);
        settings.burst = it.value().value("burst", settings.burst);
        m_settings[it.key()] = settings;
      }
    }
    m_buckets.clear();
  } catch (const nlohmann::json::exception& error) {
    throw bad_json(std::string("bad rate limit settings: ") + error.what());
  }
}

}  // namespace mxsim
