#include "bench/loop_scenario.h"

#include <signal.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <regex>
#include <stdexcept>
#include <thread>

#include "bench/loop_http.h"
#include "bench/manifest_writer.h"
#include "bench/measured_process.h"
#include "bench/running_process.h"
#include "bench/scenario.h"

namespace bench {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// How long a drift may stay unrepaired before the loop counts as broken.
constexpr auto k_repair_limit = 60s;
// Iterations after which the early resident set is read.
constexpr int k_early_iterations = 10;
// Rooms the iterations for the resident set rename in turn.
constexpr int k_iteration_rooms = 10;


double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t found = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
    ++found;
  }
  return found;
}

// An instance applied cold on a fresh server (mxsim, or Synapse with
// config.synapse_scripts): what a loop is started on.
struct Applied {
  Instance instance;
  std::string dir;
  std::string manifests;
  std::string state;
  std::unique_ptr<BenchServer> server;
};

// In `config.work_dir`/`name`, so each run's log is kept apart.
Applied apply_cold(const InstanceSize& size, const std::string& name, const BenchConfig& config) {
  Applied applied;
  applied.instance = generate(size, config.seed);
  applied.dir = config.work_dir + "/" + name;
  std::filesystem::remove_all(applied.dir);
  applied.manifests = applied.dir + "/manifests";
  if (std::string problem = write_manifests(applied.instance, applied.manifests); !problem.empty()) {
    throw std::runtime_error(problem);
  }
  applied.state = applied.dir + "/mxctl.db";
  applied.server = start_server(config, applied.dir, 0);
  Measured apply = run_measured({config.mxctl, "apply", applied.manifests, "--yes", "--parallel",
                                 std::to_string(config.parallel)},
                                applied.server->mxctl_env(applied.state), applied.dir);
  if (apply.exit_code != 0) {
    throw std::runtime_error("loop: cold apply of " + size.name + " exited " + std::to_string(apply.exit_code) +
                             ":\n" + apply.err.substr(0, 4000));
  }
  if (config.verbose) {
    std::cerr << "  loop: cold apply of " << size.name << ": " << static_cast<long>(apply.wall_ms) << " ms\n";
  }
  return applied;
}

// Aliases of `count` named managed rooms, spread over the instance (spaces
// and rooms of communities, then of councils), by the default alias prefix,
// on `server_name`.
std::vector<std::string> spread_aliases(const Instance& instance, int count, const std::string& server_name) {
  std::vector<std::string> keys;
  for (const GenCommunity& community : instance.communities) {
    keys.push_back("community." + community.key);
    keys.push_back("community." + community.key + ".general");
  }
  for (const GenCouncil& council : instance.councils) {
    keys.push_back("council." + council.key);
    keys.push_back("council." + council.key + ".discussion");
  }
  std::vector<std::string> aliases;
  for (std::size_t i = 0; i < static_cast<std::size_t>(count) && !keys.empty(); ++i) {
    // "+ i": with an even stride, spaces only otherwise.
    const std::size_t index = (i * keys.size() / static_cast<std::size_t>(count) + i) % keys.size();
    aliases.push_back("#mxctl." + keys[index] + ":" + server_name);
  }
  return aliases;
}

// A managed room to drift: its id and the name the loop must put back.
struct Target {
  std::string alias;
  std::string room_id;
  std::string name;
};

std::vector<Target> targets(BotClient& bot, const Instance& instance, int count, const std::string& server_name) {
  std::vector<Target> out;
  for (const std::string& alias : spread_aliases(instance, count, server_name)) {
    Target target{alias, bot.resolve(alias), ""};
    target.name = bot.room_name(target.room_id);
    if (target.name.empty()) {
      throw std::runtime_error("loop: the room " + alias + " has no name to drift");
    }
    out.push_back(target);
  }
  return out;
}

// `mxctl run` on an applied instance.
class Loop {
 public:
  Loop(const Applied& applied, const BenchConfig& config)
      : m_process({config.mxctl, "run", applied.manifests, "--listen", "127.0.0.1:0"},
                  applied.server->mxctl_env(applied.state), applied.dir + "/run.out", applied.dir + "/run.err") {}

  // Waits for the status server's address in the log, then for /readyz.
  void wait_ready(std::chrono::milliseconds limit) {
    static const std::regex k_serving(R"(serving /metrics, /healthz and /readyz on (http://[0-9.]+:[0-9]+))");
    const auto deadline = Clock::now() + limit;
    while (!m_status) {
      std::smatch match;
      const std::string log = m_process.err();
      if (std::regex_search(log, match, k_serving)) {
        m_status = std::make_unique<StatusClient>(match[1]);
      } else {
        check(deadline, "did not say where it serves /readyz");
        std::this_thread::sleep_for(20ms);
      }
    }
    while (!m_status->ready()) {
      check(deadline, "did not become ready");
      std::this_thread::sleep_for(50ms);
    }
  }

  RunningProcess& process() { return m_process; }
  LoopCounters counters() { return m_status->counters(); }

  // Waits until no pass is in flight and the counters stood still for
  // 300 ms: what a drift cost is then all counted.
  LoopCounters settle() {
    const auto deadline = Clock::now() + k_repair_limit;
    LoopCounters last = counters();
    for (int still = 0; still < 3;) {
      std::this_thread::sleep_for(100ms);
      LoopCounters now = counters();
      // Each pass is logged as it starts and counted once it ends.
      const bool in_flight = now.passes < static_cast<double>(occurrences(m_process.err(), "pass started"));
      still = !in_flight && now.requests == last.requests && now.passes == last.passes ? still + 1 : 0;
      last = now;
      check(deadline, "did not settle");
    }
    return last;
  }

  // Renames the target and waits for the loop to put its name back; the
  // time from the rename's answer until the name reads back, in ms.
  double repair(BotClient& bot, const Target& target, const std::string& drift_name) {
    bot.set_room_name(target.room_id, drift_name);
    const auto renamed = Clock::now();
    while (bot.room_name(target.room_id) != target.name) {
      check(renamed + k_repair_limit, "did not repair " + target.alias + " within 60 s");
      std::this_thread::sleep_for(5ms);
    }
    return ms_since(renamed);
  }

  // SIGTERM; the exit code, or -1 when it still runs 60 s later.
  int stop() {
    m_process.signal(SIGTERM);
    return m_process.wait_for(60s).value_or(-1);
  }

 private:
  void check(Clock::time_point deadline, const std::string& what) {
    if (!m_process.running()) {
      throw std::runtime_error("loop: mxctl run exited; it " + what + ":\n" + log_tail());
    }
    if (Clock::now() > deadline) {
      throw std::runtime_error("loop: mxctl run " + what + ":\n" + log_tail());
    }
  }
  std::string log_tail() const {
    const std::string log = m_process.err();
    return log.size() > 4000 ? log.substr(log.size() - 4000) : log;
  }

  RunningProcess m_process;
  std::unique_ptr<StatusClient> m_status;
};

void measure_drifts(LoopResult& result, const LoopConfig& loop_config, const BenchConfig& config) {
  Applied applied = apply_cold(size_named(result.size), "loop-" + result.size, config);
  result.rooms = applied.instance.rooms();
  result.server = applied.server->describe();
  Loop loop(applied, config);
  const auto started = Clock::now();
  loop.wait_ready(10min);
  if (config.verbose) {
    std::cerr << "  loop: ready " << static_cast<long>(ms_since(started)) << " ms after start\n";
  }
  BotClient bot(applied.server->url(), applied.server->token());
  std::vector<Target> rooms = targets(bot, applied.instance, loop_config.drifts, applied.server->server_name());
  loop.settle();
  for (int i = 0; i < loop_config.drifts; ++i) {
    const Target& target = rooms[static_cast<std::size_t>(i)];
    const LoopCounters before = loop.counters();
    const double took = loop.repair(bot, target, "drift-" + std::to_string(i + 1));
    const LoopCounters after = loop.settle();
    result.repair_ms.push_back(took);
    result.requests.push_back(after.requests - before.requests);
    result.passes.push_back(after.passes - before.passes);
    if (config.verbose) {
      std::cerr << "  loop: drift " << i + 1 << "/" << loop_config.drifts << " " << target.alias << ": repaired in "
                << static_cast<long>(took) << " ms, " << result.requests.back() << " requests, "
                << result.passes.back() << " passes\n";
    }
    std::this_thread::sleep_for(loop_config.pause);
  }
  if (loop_config.idle.count() > 0) {
    const LoopCounters before = loop.settle();
    const double cpu_before = loop.process().cpu_ms();
    const auto idle_started = Clock::now();
    std::this_thread::sleep_for(loop_config.idle);
    const double cpu_after = loop.process().cpu_ms();
    result.idle_seconds = ms_since(idle_started) / 1000.0;
    result.idle_cpu_ms = cpu_after - cpu_before;
    result.idle_passes = loop.counters().passes - before.passes;
    if (config.verbose) {
      std::cerr << "  loop: idle " << result.idle_seconds << " s: " << result.idle_cpu_ms << " ms CPU, "
                << result.idle_passes << " passes\n";
    }
  }
  result.exit_code = loop.stop();
}

void measure_iterations(LoopResult& result, const LoopConfig& loop_config, const BenchConfig& config) {
  InstanceSize size = size_named(loop_config.iterations_size);
  if (size.name.empty()) {
    throw std::runtime_error("loop: unknown size '" + loop_config.iterations_size + "'");
  }
  result.rss_size = size.name;
  Applied applied = apply_cold(size, "loop-iterations-" + size.name, config);
  Loop loop(applied, config);
  loop.wait_ready(10min);
  BotClient bot(applied.server->url(), applied.server->token());
  std::vector<Target> rooms = targets(bot, applied.instance, k_iteration_rooms, applied.server->server_name());
  loop.settle();
  const auto started = Clock::now();
  for (int i = 1; i <= loop_config.iterations; ++i) {
    loop.repair(bot, rooms[static_cast<std::size_t>(i) % rooms.size()], "drift-" + std::to_string(i));
    if (i == k_early_iterations || i == loop_config.iterations) {
      // Read with nothing in flight, so both readings see the loop at rest.
      loop.settle();
      (i == k_early_iterations ? result.rss_kb_early : result.rss_kb_late) = loop.process().rss_kb();
      if (config.verbose) {
        std::cerr << "  loop: RSS after " << i << " iterations: " << loop.process().rss_kb() << " kB\n";
      }
    }
  }
  result.rss_iterations_seconds = ms_since(started) / 1000.0;
  result.rss_iterations = loop_config.iterations;
  result.rss_exit_code = loop.stop();
}

}  // namespace

LoopResult run_loop(const InstanceSize& size, const LoopConfig& loop, const BenchConfig& config) {
  LoopResult result;
  result.ran = true;
  result.size = size.name;
  result.pause_ms = static_cast<int>(loop.pause.count());
  measure_drifts(result, loop, config);
  if (loop.iterations > 0) {
    measure_iterations(result, loop, config);
  }
  return result;
}

}  // namespace bench
