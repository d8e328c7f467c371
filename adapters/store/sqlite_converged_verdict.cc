// The converged verdict SqliteStateStore keeps (schema v12): one row,
// replaced by each pass that finds nothing to do.

#include "adapters/store/sqlite_db.h"
#include "adapters/store/sqlite_state_store.h"

namespace adapters {

namespace {

// Paths are percent-encoded, so a line break never occurs in one.
std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) {
    out += line;
    out += '\n';
  }
  return out;
}

std::optional<std::vector<std::string>> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    if (end == std::string::npos) {
      return std::nullopt;  // not what join_lines wrote
    }
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

}  // namespace

model::Result<std::optional<ConvergedVerdict>> SqliteStateStore::converged_verdict() {
  const char* doing = "read the converged verdict";
  auto stmt = m_db->cached(
      "SELECT key, valid_until, replay_paths, replay_digest FROM converged_verdict WHERE id = 1", doing);
  if (!stmt) {
    return tl::unexpected(stmt.error());
  }
  auto row = stmt->step(doing);
  if (!row) {
    return tl::unexpected(row.error());
  }
  if (!*row) {
    return std::optional<ConvergedVerdict>();
  }
  auto paths = split_lines(stmt->text(2));
  if (!paths) {
    return std::optional<ConvergedVerdict>();  // a verdict that does not read is none
  }
  ConvergedVerdict verdict;
  verdict.key = stmt->text(0);
  verdict.valid_until_ms = stmt->int64(1);
  verdict.replay.paths = std::move(*paths);
  verdict.replay.digest = stmt->text(3);
  return std::optional<ConvergedVerdict>(std::move(verdict));
}

model::Result<void> SqliteStateStore::keep_converged_verdict(const ConvergedVerdict& verdict) {
  if (auto flushed = flush(); !flushed) {
    return flushed;
  }
  return sqlite::run_statement(
      *m_db,
      "INSERT INTO converged_verdict (id, key, valid_until, replay_paths, replay_digest) VALUES (1, ?1, ?2, ?3, ?4) "
      "ON CONFLICT (id) DO UPDATE SET key = excluded.key, valid_until = excluded.valid_until, "
      "replay_paths = excluded.replay_paths, replay_digest = excluded.replay_digest",
      "keep the converged verdict", [&](sqlite::Statement& stmt) {
        stmt.bind_text(1, verdict.key)
            .bind_int64(2, verdict.valid_until_ms)
            .bind_text(3, join_lines(verdict.replay.paths))
            .bind_text(4, verdict.replay.digest);
      });
}

}  // namespace adapters
