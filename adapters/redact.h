#pragma once
// Keeping secrets out of output: every message that may contain a request URL,
// a header or a server's answer goes through here before it is shown or logged.

#include <string>
#include <string_view>
#include <vector>

namespace adapters {

/// Replaces every occurrence of each non-empty secret in `text` with
/// "<redacted>", and likewise any `access_token=...` query parameter value
/// and the password in any URL's user-info ("https://user:<redacted>@host";
/// user-info without a password goes whole: "https://<redacted>@host").
std::string redact(std::string text, const std::vector<std::string>& secrets);

/// The URI with any password replaced by "<redacted>": safe to print or to
/// store in a saved plan.
std::string redact_database_uri(const std::string& uri);

/// The URI with any password removed (not masked), so that what remains
/// still connects with the password from PGPASSWORD or ~/.pgpass: what a
/// saved plan records.
std::string strip_database_password(const std::string& uri);

}  // namespace adapters
