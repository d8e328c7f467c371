// `mxctl state migrate --to URI`: the SQLite store copied into PostgreSQL
// in one command, for a move to replicas. The copy is checked row for row
// before and after it is committed; the operator checks it once more with a
// plan, which should find nothing to do, before pointing MXCTL_STATE at it.

#include <algorithm>
#include <cstdint>
#include <iostream>
#include <string>

#include "adapters/store/store_migration.h"
#include "controller/commands.h"
#include "model/printable.h"

namespace controller {

int run_state_migrate(const StateMigrateOptions& options, Console& console) {
  auto migrated = adapters::migrate_sqlite_store_to_postgres(options.state_path, options.to);
  if (!migrated) {
    console.err << "Error: " << model::printable(migrated.error().message) << "\n";
    return k_exit_error;
  }
  const std::string source = model::printable(migrated->source);
  const std::string destination = model::printable(migrated->destination);
  const std::int64_t total = migrated->total_rows();
  console.out << "Copied the state store " << source << " into " << destination << " (schema mxctl): " << total
              << (total == 1 ? " row" : " rows") << ", serial " << migrated->serial << ".\n";
  // The tables that held rows, counts aligned on the right.
  std::size_t name_width = 0;
  std::size_t count_width = 0;
  for (const adapters::MigratedTable& table : migrated->tables) {
    if (table.rows > 0) {
      name_width = std::max(name_width, table.name.size());
      count_width = std::max(count_width, std::to_string(table.rows).size());
    }
  }
  for (const adapters::MigratedTable& table : migrated->tables) {
    if (table.rows > 0) {
      const std::string count = std::to_string(table.rows);
      const std::size_t pad = name_width - table.name.size() + 2 + count_width - count.size();
      console.out << "  " << table.name << std::string(pad, ' ') << count << "\n";
    }
  }
  console.out << "Both stores were locked throughout; " << source << " is left as it was.\n"
              << "Check it: mxctl plan --state '" << destination
              << "' MANIFESTS... should show no changes; then point MXCTL_STATE at it.\n";
  return k_exit_ok;
}

}  // namespace controller
