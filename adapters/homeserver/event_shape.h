#pragma once
// The shape of the events in a homeserver's answers (GET /rooms/{id}/state,
// /sync's state and timeline, /messages' chunk), as far as mxctl reads them.
// Event content is what people wrote, not the server's answer: it is read
// leniently where it is used and not checked here.

#include <string>

#include <nlohmann/json.hpp>

#include "adapters/homeserver/answer_shape.h"
#include "model/result.h"

namespace adapters {

/// Checks `events` (found at `where` in `answer`) is an array of events:
/// objects with a string `type`, a string `sender`, an object `content` and
/// a string `state_key`: required with `state_only` (a room's state), else
/// optional (a timeline also carries messages). The error names the first
/// event that is not ("GET /path: malformed answer: [3].content is a
/// string, expected an object").
model::Result<void> check_events(const Answer& answer, const nlohmann::json& events, const std::string& where,
                                 bool state_only);

/// check_events over the whole body answered to `method` `path` (GET
/// /rooms/{id}/state), which must be an array (an empty body is not).
model::Result<void> check_state_events(const std::string& method, const std::string& path, const nlohmann::json& body);

}  // namespace adapters
