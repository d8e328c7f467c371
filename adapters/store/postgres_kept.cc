// What PostgresStateStore keeps for the next pass, one row each, replaced
// whole: the compiled desired state and the converged verdict, with the
// SQLite store's meaning (sqlite_compiled_desired.cc,
// sqlite_converged_verdict.cc).

#include <optional>
#include <string>
#include <vector>

#include "adapters/sha256.h"
#include "adapters/store/postgres_rows.h"
#include "adapters/store/postgres_state_store.h"

namespace adapters {

namespace {

// Paths are percent-encoded, so a line break never occurs in one (the
// SQLite store writes them the same way).
std::string verdict_paths_text(const std::vector<std::string>& paths) {
  std::string out;
  for (const std::string& path : paths) {
    out += path;
    out += '\n';
  }
  return out;
}

std::optional<std::vector<std::string>> verdict_paths_from(const std::string& text) {
  std::vector<std::string> paths;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    if (end == std::string::npos) {
      return std::nullopt;  // not what verdict_paths_text wrote
    }
    paths.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return paths;
}

}  // namespace

model::Result<std::optional<CompiledDesired>> PostgresStateStore::compiled_desired() {
  std::lock_guard guard(m_session->mutex);
  const char* doing = "read the compiled desired state";
  auto rows = query(doing, "SELECT digest, encode(state, 'hex') FROM mxctl.compiled_desired WHERE id = 1");
  if (!rows) {
    return tl::unexpected(rows.error());
  }
  if (rows->rows.empty()) {
    return std::optional<CompiledDesired>();
  }
  const auto& row = rows->rows[0];
  // Never other bytes than those kept: a state that does not decode is an
  // error, which the cache's reader takes as none.
  auto state = row[1] ? bytes_from_hex(*row[1]) : std::nullopt;
  if (!row[0] || !state) {
    return tl::unexpected(postgres_store::store_damaged(doing, "mxctl.compiled_desired does not read back"));
  }
  return std::optional<CompiledDesired>(CompiledDesired{*row[0], std::move(*state)});
}

model::Result<std::optional<std::string>> PostgresStateStore::compiled_desired_digest() {
  std::lock_guard guard(m_session->mutex);
  const char* doing = "read the compiled desired state's digest";
  auto rows = query(doing, "SELECT digest FROM mxctl.compiled_desired WHERE id = 1");
  if (!rows) {
    return tl::unexpected(rows.error());
  }
  if (rows->rows.empty()) {
    return std::optional<std::string>();
  }
  if (!rows->rows[0].at(0)) {
    return tl::unexpected(postgres_store::store_damaged(doing, "mxctl.compiled_desired.digest is NULL"));
  }
  return std::optional<std::string>(*rows->rows[0][0]);
}

model::Result<void> PostgresStateStore::keep_compiled_desired(const CompiledDesired& compiled) {
  std::lock_guard guard(m_session->mutex);
  if (auto flushed = flush_locked(); !flushed) {
    return flushed;
  }
  auto kept = query("keep the compiled desired state",
                    "INSERT INTO mxctl.compiled_desired (id, digest, state) VALUES (1, $1::text, decode($2::text, "
                    "'hex')) ON CONFLICT (id) DO UPDATE SET digest = excluded.digest, state = excluded.state",
                    {compiled.digest, lower_hex(compiled.state)});
  if (!kept) {
    return tl::unexpected(kept.error());
  }
  return {};
}

model::Result<std::optional<ConvergedVerdict>> PostgresStateStore::converged_verdict() {
  std::lock_guard guard(m_session->mutex);
  const char* doing = "read the converged verdict";
  auto rows = query(doing,
                    "SELECT key, valid_until, replay_paths, replay_digest FROM mxctl.converged_verdict WHERE id = 1");
  if (!rows) {
    return tl::unexpected(rows.error());
  }
  if (rows->rows.empty()) {
    return std::optional<ConvergedVerdict>();
  }
  const auto& row = rows->rows[0];
  auto paths = row[2] ? verdict_paths_from(*row[2]) : std::nullopt;
  if (!paths) {
    return std::optional<ConvergedVerdict>();  // a verdict that does not read is none
  }
  auto valid_until = postgres::integer_value<decltype(ConvergedVerdict::valid_until_ms)>(row[1]);
  if (!valid_until) {
    return tl::unexpected(
        postgres_store::store_damaged(doing, "mxctl.converged_verdict.valid_until is not an integer"));
  }
  ConvergedVerdict verdict;
  verdict.valid_until_ms = *valid_until;
  verdict.key = row[0].value_or(std::string());
  verdict.replay.paths = std::move(*paths);
  verdict.replay.digest = row[3].value_or(std::string());
  return std::optional<ConvergedVerdict>(std::move(verdict));
}

model::Result<void> PostgresStateStore::keep_converged_verdict(const ConvergedVerdict& verdict) {
  std::lock_guard guard(m_session->mutex);
  if (auto flushed = flush_locked(); !flushed) {
    return flushed;
  }
  auto kept = query(
      "keep the converged verdict",
      "INSERT INTO mxctl.converged_verdict (id, key, valid_until, replay_paths, replay_digest) "
      "VALUES (1, $1::text, $2::bigint, $3::text, $4::text) "
      "ON CONFLICT (id) DO UPDATE SET key = excluded.key, valid_until = excluded.valid_until, "
      "replay_paths = excluded.replay_paths, replay_digest = excluded.replay_digest",
      {verdict.key, std::to_string(verdict.valid_until_ms), verdict_paths_text(verdict.replay.paths),
       verdict.replay.digest});
  if (!kept) {
    return tl::unexpected(kept.error());
  }
  return {};
}

}  // namespace adapters
