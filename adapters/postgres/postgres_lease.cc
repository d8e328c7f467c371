#include "adapters/postgres/postgres_lease.h"

#include <string>
#include <string_view>

#include "adapters/sha256.h"

namespace adapters::postgres {

namespace {

// The session holding lease $1 in this database. A bigint key shows in
// pg_locks as its high half in classid and its low half in objid, with
// objsubid 1 (two int keys show objsubid 2).
constexpr std::string_view k_granted_lease =
    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
    "AND ((classid::bigint << 32) | objid::bigint) = $1::bigint";

bool says_true(const model::Result<Rows>& rows) {
  return rows && rows->rows.size() == 1 && rows->rows[0].size() == 1 && rows->rows[0][0] == "t";
}

}  // namespace

std::int64_t lease_key(std::string_view name) {
  const std::string digest = sha256_hex(name);
  // 16 hex digits are 64 bits; the top bit is dropped.
  const std::uint64_t bits = std::stoull(digest.substr(0, 16), nullptr, 16);
  return static_cast<std::int64_t>(bits >> 1);
}

model::Result<bool> take_lease(Connection& connection, std::int64_t key) {
  auto rows = connection.query("take the leader lease", "SELECT pg_try_advisory_lock($1::bigint)",
                               {std::to_string(key)});
  if (!rows) {
    return tl::unexpected(rows.error());
  }
  return says_true(rows);
}

bool holds_lease(Connection& connection, std::int64_t key, std::chrono::milliseconds within) {
  if (!connection.usable()) {
    return false;
  }
  auto rows = connection.query_within(within, "confirm the leader lease",
                                      "SELECT EXISTS (" + std::string(k_granted_lease) + " AND pid = pg_backend_pid())",
                                      {std::to_string(key)});
  return says_true(rows);
}

model::Result<std::optional<int>> lease_holder(Connection& connection, std::int64_t key) {
  auto rows = connection.query("look up who holds the leader lease", std::string(k_granted_lease),
                               {std::to_string(key)});
  if (!rows) {
    return tl::unexpected(rows.error());
  }
  if (rows->rows.empty() || !rows->rows[0].at(0)) {
    return std::nullopt;
  }
  auto pid = postgres::integer_value<int>(rows->rows[0][0]);
  if (!pid) {
    return model::fail(model::Error::Kind::invalid, "cannot look up who holds the leader lease: pg_locks said \"" +
                                                        *rows->rows[0][0] + "\" for a process id");
  }
  return *pid;
}

model::Result<void> release_lease(Connection& connection, std::int64_t key) {
  auto rows = connection.query("release the leader lease", "SELECT pg_advisory_unlock($1::bigint)",
                               {std::to_string(key)});
  if (!rows) {
    return tl::unexpected(rows.error());
  }
  if (!says_true(rows)) {
    return model::fail(model::Error::Kind::not_found, "cannot release the leader lease: this session does not hold it");
  }
  return {};
}

}  // namespace adapters::postgres
