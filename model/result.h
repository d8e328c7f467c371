#pragma once
// Error and Result: how every layer reports failure without exceptions
// crossing a folder boundary (see STYLE.md, "Errors").

#include <chrono>
#include <optional>
#include <string>

#include <tl/expected.hpp>

namespace model {

/// What went wrong, classified so that callers can decide whether to retry.
/// Only `transient` and `rate_limited` are worth retrying; the rest are terminal.
/// `unreachable`: another homeserver the request needed (an invitee's) could
/// not be reached; it may come back later, but not within this pass.
struct Error {
  enum class Kind { invalid, not_found, conflict, forbidden, rate_limited, transient, unreachable };

  Kind kind = Kind::invalid;
  /// Lower-case, human-readable, never contains a secret.
  std::string message;
  /// Set for `rate_limited` when the server said how long to wait.
  std::optional<std::chrono::milliseconds> retry_after;
  /// The homeserver's Matrix errcode ("M_FORBIDDEN", ...) when the error came
  /// from its answer; empty otherwise.
  std::string errcode;

  /// True when repeating the same request later may succeed.
  bool retryable() const { return kind == Kind::transient || kind == Kind::rate_limited; }
};

/// Shorthand for building an error of a given kind.
inline Error make_error(Error::Kind kind, std::string message) {
  return Error{kind, std::move(message), std::nullopt, {}};
}

/// The name of an error kind as shown to operators ("not_found", ...).
const char* to_string(Error::Kind kind);

/// A value or the reason there is none.
template <typename T>
using Result = tl::expected<T, Error>;

/// Wraps an Error for returning from a function that yields Result<T>.
inline tl::unexpected<Error> fail(Error::Kind kind, std::string message) {
  return tl::unexpected<Error>(make_error(kind, std::move(message)));
}

}  // namespace model
