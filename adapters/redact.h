#pragma once
// Keeping secrets out of output: every message that may contain a request URL,
// a header or a server's answer goes through here before it is shown or logged.

#include <string>
#include <string_view>
#include <vector>

namespace adapters {

/// Replaces every occurrence of each non-empty secret in `text` with
/// "<redacted>", and any `access_token=...` query parameter value likewise.
std::string redact(std::string text, const std::vector<std::string>& secrets);

}  // namespace adapters
