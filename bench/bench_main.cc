// mxctl-bench: the cost of a pass at instance scale. Generates the S, M
// and L instances, drives the real mxctl binary against mxsim over loopback
// (or a real homeserver), and prints one markdown table and JSON. With
// --loop, also the long-running controller (`mxctl run`): drift repaired,
// idle, memory. Not a test: it takes minutes and its numbers describe the
// machine.

#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "bench/loop_scenario.h"
#include "bench/plan_only.h"
#include "bench/results.h"
#include "bench/scenario.h"
#include "bench/sim_process.h"

namespace {

const char* k_usage = R"(usage: mxctl-bench [S] [M] [L] [options]

Measures mxctl against mxsim on loopback for each size given (default: S M L):
cold apply, the first pass after it, no-op passes without and with a sync
token, three small changes and plan only (compile + diff in memory); then a
cold apply of the throughput size with a fixed delay per request, 1 vs N in flight.

With --synapse, against a fresh Synapse per instance instead (and the
throughput comparison without added delay); with --homeserver, against a
running homeserver, the bot's token from MATRIX_BOT_ACCESS_TOKEN, every key
prefixed so that runs do not meet (no throughput comparison). --loop runs
against a fresh mxsim, or with --synapse a fresh Synapse (not --homeserver).

options:
  --synapse DIR           the Synapse homeserver scripts (start, make-admin, stop),
                          e.g. ../shared/homeservers/synapse-1.67; rate limits as
                          RATE_LIMITS says (default: relaxed)
  --homeserver URL        a running homeserver; with --server-name and --bot-user
  --server-name NAME      its server name
  --bot-user ID           the bot, a server admin
  --server-pid PID        its process on this machine, to read its CPU (optional)
  --mxctl PATH            the mxctl binary (default: the one built alongside)
  --mxsim PATH            the mxsim binary (default: the one built alongside)
  --work DIR              scratch directory (default: a new one under /tmp, removed after)
  --seed N                instance seed (default 7)
  --parallel N            most operations in flight for applies (default 32, as mxctl)
  --throughput-size SIZE  size for the delay comparison (default S; "none" skips it)
  --delay-ms MS           per-request delay for the comparison (default 20)
  --loop SIZE             also measure `mxctl run` on SIZE: drift → repair time and
                          requests, idle CPU; then its RSS over many repairs on S
  --loop-only             only the --loop measurements (default size L): no table
                          of sizes, no throughput comparison
  --loop-drifts N         drifts measured one by one (default 20)
  --loop-pause-ms MS      pause between them (default 1000)
  --loop-idle-seconds S   the idle CPU reading (default 60; 0 skips it)
  --loop-iterations N     repairs in a row for the RSS reading (default 1000;
                          0 skips it, else at least 10)
  --markdown FILE         also write the markdown there
  --json FILE             also write the JSON there
  -v, --verbose           print each pass as it finishes
)";

[[noreturn]] void usage_error(const std::string& message) {
  std::cerr << "mxctl-bench: " << message << "\n" << k_usage;
  std::exit(2);
}

std::string first_line_of_command(const std::string& command) {
  std::string out;
  if (FILE* pipe = popen(command.c_str(), "r")) {
    char buffer[256];
    if (fgets(buffer, sizeof buffer, pipe)) {
      out = buffer;
    }
    pclose(pipe);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) {
    out.pop_back();
  }
  return out;
}

std::string field_of(const std::string& path, const std::string& name) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name, 0) == 0) {
      auto colon = line.find(':');
      std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      return value;
    }
  }
  return "";
}

bench::Machine describe_machine() {
  bench::Machine machine;
  std::time_t now = std::time(nullptr);
  char date[64];
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  machine.date = date;
  machine.cpu_model = field_of("/proc/cpuinfo", "model name");
  machine.cores = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  std::string total = field_of("/proc/meminfo", "MemTotal");
  machine.memory_mb = total.empty() ? 0 : std::stol(total) / 1024;
  machine.build_type = MXCTL_BUILD_TYPE;
  std::string source = MXCTL_SOURCE_DIR;
  machine.commit = first_line_of_command("git -C '" + source + "' rev-parse --short HEAD 2>/dev/null");
  if (machine.commit.empty()) {
    machine.commit = "unknown (not a git checkout)";
  } else if (!first_line_of_command("git -C '" + source + "' status --porcelain --untracked-files=no 2>/dev/null").empty()) {
    machine.commit += " (with uncommitted changes)";
  }
  return machine;
}

// The plan-only child: prints "empty|changes COMPILE_MS DIFF_MS".
int plan_only_child(const std::vector<std::string>& args) {
  if (args.size() != 7) {
    usage_error("--plan-only MANIFESTS URL TOKEN STORE SERVER_NAME BOT");
  }
  bench::PlanOnlyResult result = bench::measure_plan_only({args[1], args[2], args[5], args[6], args[3], args[4]});
  if (!result.error.empty()) {
    std::cerr << "mxctl-bench: plan only: " << result.error << "\n";
    return 1;
  }
  std::cout << (result.plan_empty ? "empty" : "changes") << " " << result.compile_cpu_ms << " " << result.diff_cpu_ms
            << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args[0] == "--plan-only") {
    return plan_only_child(args);
  }
  std::vector<bench::InstanceSize> sizes;
  bench::BenchConfig config;
  config.mxctl = MXCTL_BINARY;
  config.mxsim = MXSIM_BINARY;
  config.self = std::filesystem::read_symlink("/proc/self/exe").string();
  std::string work_dir;
  std::string throughput_size = "S";
  int delay_ms = 20;
  std::string markdown_path;
  std::string json_path;
  std::string loop_size;
  bool loop_only = false;
  std::string homeserver_url;
  std::string server_name;
  std::string bot_user;
  pid_t server_pid = -1;
  bool throughput_given = false;
  bench::LoopConfig loop_config;
  for (std::size_t i = 0; i < args.size(); ++i) {
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) {
        usage_error(args[i] + " needs a value");
      }
      return args[++i];
    };
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << k_usage;
      return 0;
    } else if (arg == "--mxctl") {
      config.mxctl = value();
    } else if (arg == "--mxsim") {
      config.mxsim = value();
    } else if (arg == "--work") {
      work_dir = value();
    } else if (arg == "--seed") {
      config.seed = std::stoull(value());
    } else if (arg == "--parallel") {
      config.parallel = std::stoi(value());
    } else if (arg == "--throughput-size") {
      throughput_size = value();
      throughput_given = true;
    } else if (arg == "--synapse") {
      config.synapse_scripts = value();
    } else if (arg == "--homeserver") {
      homeserver_url = value();
    } else if (arg == "--server-name") {
      server_name = value();
    } else if (arg == "--bot-user") {
      bot_user = value();
    } else if (arg == "--server-pid") {
      server_pid = static_cast<pid_t>(std::stol(value()));
    } else if (arg == "--delay-ms") {
      delay_ms = std::stoi(value());
    } else if (arg == "--loop") {
      loop_size = value();
    } else if (arg == "--loop-only") {
      loop_only = true;
    } else if (arg == "--loop-drifts") {
      loop_config.drifts = std::stoi(value());
    } else if (arg == "--loop-pause-ms") {
      loop_config.pause = std::chrono::milliseconds(std::stoi(value()));
    } else if (arg == "--loop-idle-seconds") {
      loop_config.idle = std::chrono::seconds(std::stoi(value()));
    } else if (arg == "--loop-iterations") {
      loop_config.iterations = std::stoi(value());
    } else if (arg == "--markdown") {
      markdown_path = value();
    } else if (arg == "--json") {
      json_path = value();
    } else if (arg == "-v" || arg == "--verbose") {
      config.verbose = true;
    } else if (bench::InstanceSize size = bench::size_named(arg); !size.name.empty()) {
      sizes.push_back(size);
    } else {
      usage_error("unknown argument '" + arg + "'");
    }
  }
  if (loop_only) {
    if (!sizes.empty()) {
      usage_error("--loop-only measures no sizes; give the loop's size with --loop");
    }
    throughput_size = "none";
    if (loop_size.empty()) {
      loop_size = "L";
    }
  } else if (sizes.empty()) {
    sizes = {bench::size_named("S"), bench::size_named("M"), bench::size_named("L")};
  }
  if (!homeserver_url.empty()) {
    const char* token = std::getenv("MATRIX_BOT_ACCESS_TOKEN");
    if (server_name.empty() || bot_user.empty() || token == nullptr || *token == '\0') {
      usage_error("--homeserver needs --server-name, --bot-user and the bot's token in MATRIX_BOT_ACCESS_TOKEN");
    }
    if (!config.synapse_scripts.empty()) {
      usage_error("--homeserver and --synapse are two different servers: give one");
    }
    if (throughput_given && throughput_size != "none") {
      usage_error("the throughput comparison needs a fresh server per apply: not with --homeserver");
    }
    throughput_size = "none";
    config.given.emplace(homeserver_url, token, server_name, bot_user, server_pid);
    config.key_prefix = "b" + std::to_string(std::time(nullptr)) + "-";
  }
  if (!loop_size.empty() && config.given) {
    usage_error("--loop needs a fresh server per run: mxsim, or --synapse");
  }
  if (!loop_size.empty() && bench::size_named(loop_size).name.empty()) {
    usage_error("unknown --loop size '" + loop_size + "'");
  }
  if (loop_config.drifts < 0 || loop_config.pause.count() < 0 || loop_config.idle.count() < 0 ||
      loop_config.iterations < 0 || (loop_config.iterations > 0 && loop_config.iterations < 10)) {
    usage_error("--loop-drifts, --loop-pause-ms and --loop-idle-seconds take 0 or more; "
                "--loop-iterations 0 or 10 and more");
  }
  bool own_work_dir = work_dir.empty();
  if (own_work_dir) {
    char pattern[] = "/tmp/mxctl-bench-XXXXXX";
    if (mkdtemp(pattern) == nullptr) {
      std::cerr << "mxctl-bench: cannot create a scratch directory\n";
      return 1;
    }
    work_dir = pattern;
  }
  std::filesystem::create_directories(work_dir);
  config.work_dir = work_dir;

  auto started = std::chrono::steady_clock::now();
  std::vector<bench::SizeResult> results;
  bench::ThroughputResult throughput;
  bench::LoopResult loop;
  int status = 0;
  try {
    for (const bench::InstanceSize& size : sizes) {
      std::cerr << "mxctl-bench: size " << size.name << "...\n";
      results.push_back(bench::run_size(size, config));
    }
    if (throughput_size != "none") {
      bench::InstanceSize size = bench::size_named(throughput_size);
      if (size.name.empty()) {
        usage_error("unknown --throughput-size '" + throughput_size + "'");
      }
      std::cerr << "mxctl-bench: throughput of " << size.name << "...\n";
      throughput = bench::run_throughput(size, delay_ms, config);
    }
    if (!loop_size.empty()) {
      bench::InstanceSize size = bench::size_named(loop_size);
      std::cerr << "mxctl-bench: mxctl run on " << size.name << "...\n";
      loop = bench::run_loop(size, loop_config, config);
    }
  } catch (const std::exception& error) {
    std::cerr << "mxctl-bench: " << error.what() << "\n";
    status = 1;
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  bench::Machine machine = describe_machine();
  std::string markdown = bench::to_markdown(machine, results, throughput, seconds, loop);
  std::string json = bench::to_json(machine, results, throughput, seconds, loop);
  std::cout << markdown << "\n```json\n" << json << "\n```\n";
  if (!markdown_path.empty()) {
    std::ofstream(markdown_path) << markdown;
  }
  if (!json_path.empty()) {
    std::ofstream(json_path) << json << "\n";
  }
  if (own_work_dir && status == 0) {
    std::filesystem::remove_all(work_dir);
  } else if (status != 0) {
    std::cerr << "mxctl-bench: scratch files kept in " << work_dir << "\n";
  }
  return status;
}
