#pragma once
// Other homeservers, as far as this one needs them: an invite to a remote
// user must be signed by the user's server over federation. A server listed
// as unreachable never answers; Synapse then answers the invite with 502
// M_UNKNOWN "Can't connect to server <name>" after its own federation
// timeout (synapse-observed.md). Every other remote server signs at once.

#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>

namespace mxsim {

/// Which remote servers cannot be reached, and how long finding out takes.
struct FederationSettings {
  std::set<std::string> unreachable;
  /// How long an invite to an unreachable server waits before its 502.
  int64_t timeout_ms = 0;

  nlohmann::json to_json() const;
  /// Reads {"unreachable": [names], "timeout_ms": N} (both optional, over
  /// `base`); throws MatrixError 400 M_BAD_JSON on bad values.
  static FederationSettings from_json(const nlohmann::json& json, FederationSettings base);
};

/// The simulated federation. Thread-safe.
class Federation {
 public:
  void configure(FederationSettings settings);
  FederationSettings settings() const;
  /// The server part of `user_id` when that server is listed as
  /// unreachable; nullopt otherwise (a malformed id included).
  std::optional<std::string> unreachable_server_of(const std::string& user_id) const;

 private:
  mutable std::mutex m_mutex;
  FederationSettings m_settings;
};

}  // namespace mxsim
