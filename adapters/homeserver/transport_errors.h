#pragma once
// What went wrong below HTTP, in words an operator can act on: a connection
// refused, a TLS certificate that failed verification (and why: an unknown
// authority, an expired certificate, another host's name), durations and
// sizes as the settings that bound them are written.

#include <chrono>
#include <cstdint>
#include <string>

namespace adapters {

/// Why a certificate failed verification, from OpenSSL's X509 verify result
/// (X509_V_OK, 0, means the chain was fine and the host name did not match),
/// ending in what to do about it; `host` is the name mxctl connected to.
std::string describe_certificate_failure(long verify_result, const std::string& host);

/// "30 s", "2 min", "6 h", "1500 ms": the largest whole unit.
std::string duration_text(std::chrono::milliseconds duration);

/// "64 MB" for whole mebibytes (the unit of the settings), else "1500 bytes".
std::string size_text(std::uint64_t bytes);

/// The host (and port) of `url`, without scheme, user-info or path:
/// "https://user:pw@example.org:8448/x" gives "example.org:8448".
std::string host_of(const std::string& url);

}  // namespace adapters
