#pragma once
// The converged verdict. A pass that found nothing to do keeps a key over
// everything its plan was made from — the desired state's digest, the
// store's records and hints, the options, what the port is and found, and
// how long the lifecycle's clock leaves the plan standing — with the reads
// its observation made (adapters/converged_verdicts.h). A later pass whose
// inputs key alike asks the homeserver whether anything it read has
// changed (HomeserverPort::unchanged_since); when nothing has, it is the
// same pass and finds nothing to do, without decoding the desired state or
// reading a room.
//
// The key is an HMAC under the bot's access token: whoever can write the
// store but does not hold the token cannot make a verdict for inputs of
// their own, so a forged, stale or lost verdict costs a full pass, never a
// change missed.

#include <cstdint>
#include <string>

#include "adapters/homeserver_port.h"
#include "model/diff.h"
#include "model/lifecycle.h"
#include "model/observed_state.h"

namespace controller {

/// What a pass's verdict is keyed by besides the store and the server.
struct VerdictBasis {
  /// desired_digest() of the pass's inputs (controller/desired_cache.h).
  std::string desired_digest;
  /// The key's secret: the bot's access token.
  std::string secret;
};

/// The key of a pass over `basis`; the port's observation_basis(); `hints`
/// but for the sync token and the kept reads (they only spare work); the
/// lifecycle `records`; the diff's options and the grace period; and
/// `valid_until_ms`. Any difference in any of them gives another key.
std::string verdict_key(const VerdictBasis& basis, const std::string& port_basis,
                        const adapters::ObserveHints& hints, const model::LifecycleRecords& records,
                        const model::DiffOptions& diff, int grace_period_days, std::int64_t valid_until_ms);

/// Until when (ms since the epoch) the lifecycle decides for `observed` as
/// it does now: the first end of an archived room's grace period (by the
/// room's archive event or the store's record); INT64_MAX when no room is
/// archived.
std::int64_t verdict_valid_until(const model::ObservedState& observed, const model::LifecycleRecords& records,
                                 int grace_period_days);

}  // namespace controller
