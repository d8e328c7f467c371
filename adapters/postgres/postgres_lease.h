#pragma once
// Leadership among replicas through a session-level advisory lock: the
// session that holds it leads; it is released when the session ends,
// however it ends (the process dies, the connection is cut, an operator
// runs pg_terminate_backend), so a standby can take it over without any
// clock or heartbeat of mxctl's own. A new session never inherits it: a
// reconnected replica must take it again like any other.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "adapters/postgres/postgres_connection.h"
#include "model/result.h"

namespace adapters::postgres {

/// The advisory-lock key for `name` (the store's schema, say): the first 63
/// bits of its SHA-256, so every replica derives the same non-negative key.
std::int64_t lease_key(std::string_view name);

/// Takes the lease `key` for `connection`'s session if no other session
/// holds it: true when this session holds it now (again, if it already
/// did: the lock then counts twice, and release_lease undoes one).
model::Result<bool> take_lease(Connection& connection, std::int64_t key);

/// Whether `connection`'s session still holds `key`, asked of the server
/// (pg_locks) and answered within `within`. False, never an error, when
/// the answer does not come in time or the session is gone: a holder that
/// cannot show it holds the lease must act as if it did not (the
/// connection is then closed for good, which ends the session and with it
/// the lock, if the server still had it).
bool holds_lease(Connection& connection, std::int64_t key, std::chrono::milliseconds within);

/// The server process id of the session holding `key` (this one or
/// another), or nothing when no session does.
model::Result<std::optional<int>> lease_holder(Connection& connection, std::int64_t key);

/// Gives the lease up (one count of it); a lease this session does not
/// hold is `not_found`.
model::Result<void> release_lease(Connection& connection, std::int64_t key);

}  // namespace adapters::postgres
