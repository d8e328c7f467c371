// mxctl-gen: writes a synthetic FT-17 instance of size S, M or L as
// manifests (and, with --db, as an app database), deterministic from a seed.

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "bench/app_database_writer.h"
#include "bench/instance.h"
#include "bench/manifest_writer.h"

namespace {

const char* k_usage = R"(usage: mxctl-gen S|M|L --out DIR [--seed N] [--db FILE [--schema FILE]]

Writes a synthetic instance (issue #7 sizes) as mxctl/v1 manifests in DIR
and, with --db, the same instance as an SQLite app database made from the
FT-17 schema (default: manifests/app-schema.sql of the source tree):
  S  100 users, 10 communities, 10 councils, 20 coordination rooms
  M  2,000 users, 100 communities, 300 councils, 400 coordination rooms
  L  10,000 users, 500 communities, 1,500 councils, 2,000 coordination rooms
     (6,000 rooms, about 150,000 memberships)
The same size and seed (default 7) always give the same instance.
)";

[[noreturn]] void usage_error(const std::string& message) {
  std::cerr << "mxctl-gen: " << message << "\n" << k_usage;
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string size_name;
  std::string out_dir;
  std::string db_path;
  std::string schema_path = std::string(MXCTL_SOURCE_DIR) + "/manifests/app-schema.sql";
  std::uint64_t seed = 7;
  for (std::size_t i = 0; i < args.size(); ++i) {
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) {
        usage_error(args[i] + " needs a value");
      }
      return args[++i];
    };
    if (args[i] == "--help" || args[i] == "-h") {
      std::cout << k_usage;
      return 0;
    } else if (args[i] == "--out") {
      out_dir = value();
    } else if (args[i] == "--db") {
      db_path = value();
    } else if (args[i] == "--schema") {
      schema_path = value();
    } else if (args[i] == "--seed") {
      seed = std::strtoull(value().c_str(), nullptr, 10);
    } else if (size_name.empty() && !args[i].starts_with("-")) {
      size_name = args[i];
    } else {
      usage_error("unexpected argument '" + args[i] + "'");
    }
  }
  bench::InstanceSize size = bench::size_named(size_name);
  if (size.name.empty()) {
    usage_error("give the size: S, M or L");
  }
  if (out_dir.empty()) {
    usage_error("give --out DIR");
  }
  bench::Instance instance = bench::generate(size, seed);
  if (std::string problem = bench::write_manifests(instance, out_dir); !problem.empty()) {
    std::cerr << "mxctl-gen: " << problem << "\n";
    return 1;
  }
  std::cout << "Wrote size " << size.name << " (seed " << seed << "): " << instance.users.size() << " users, "
            << instance.communities.size() << " communities, " << instance.councils.size() << " councils, "
            << instance.coordination_rooms.size() << " coordination rooms; " << instance.rooms() << " rooms, "
            << instance.memberships() << " memberships, to " << out_dir << "\n";
  if (!db_path.empty()) {
    if (std::string problem = bench::write_app_database(instance, schema_path, db_path); !problem.empty()) {
      std::cerr << "mxctl-gen: " << problem << "\n";
      return 1;
    }
    std::cout << "Wrote the same instance as an app database to " << db_path << "\n";
  }
  return 0;
}
