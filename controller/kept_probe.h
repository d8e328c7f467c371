#pragma once
// A pass's probe of the homeserver (who the bot is, what the server
// offers), asked once and kept in the state store for the passes that
// follow within its lifetime: the answers change only when an operator
// changes the server or the bot, and a converged pass should ask the
// server no more than what can have changed.

#include <chrono>
#include <cstdint>
#include <string>

#include "adapters/homeserver/http_homeserver.h"
#include "adapters/observation_cache.h"
#include "model/result.h"
#include "model/settings.h"

namespace controller {

/// How long a kept probe stands in for a new one.
inline constexpr std::chrono::minutes k_probe_lifetime{60};

/// Gives `homeserver` its capabilities: the probe `store` kept, when it is
/// about the same server, mode, bot and token (`access_token`) and was
/// taken in the `lifetime` before `now_ms`; otherwise a fresh probe, which
/// is then kept (a store that cannot be written keeps nothing, which costs
/// only the next pass a probe). A kept probe that cannot be read is
/// ignored. Fails as probe() does, or when the store cannot be read.
model::Result<void> probe_or_recall(adapters::HttpHomeserver& homeserver, adapters::ObservationCache& store,
                                    const model::Settings& settings, const std::string& access_token,
                                    std::int64_t now_ms, std::chrono::minutes lifetime = k_probe_lifetime);

}  // namespace controller
