#pragma once
// A probe's answer (Capabilities) as the JSON the state store keeps, and
// the key it is kept under, so that passes within the probe's lifetime
// need not ask the homeserver again.

#include <optional>
#include <string>

#include "adapters/homeserver/http_homeserver.h"
#include "model/settings.h"

namespace adapters {

/// Whom a probe is about: the homeserver's URL, the provisioning mode, the
/// bot, and a SHA-256 digest of `access_token` (never the token itself), as
/// one string. A probe kept under another key is not this one's.
std::string probe_key(const model::Settings& settings, const std::string& access_token);

/// `caps` as compact JSON, without its rate limits (asked afresh when
/// needed: HttpHomeserver::rate_limits()).
std::string capabilities_json(const Capabilities& caps);

/// Reads what capabilities_json() wrote; nothing when `text` is not that
/// (another version, damaged): the caller then probes afresh.
std::optional<Capabilities> capabilities_from_json(const std::string& text);

}  // namespace adapters
