#include "bench/scenario.h"

#include <cctype>
#include <filesystem>
#include <memory>
#include <iostream>
#include <regex>
#include <sstream>
#include <stdexcept>

#include "adapters/store/sqlite_db.h"
#include "bench/manifest_writer.h"
#include "bench/measured_process.h"
#include "bench/sim_process.h"
#include "bench/synapse_server.h"

namespace bench {

namespace {


// Runs one mxctl pass and reads its --stats line; throws when it fails.
PassResult run_pass(const BenchServer& server, const BenchConfig& config, const std::string& label,
                    std::vector<std::string> args, const std::string& state) {
  std::vector<std::string> argv = {config.mxctl};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--stats");
  const std::optional<std::uint64_t> answered_before = server.requests_answered();
  const std::optional<double> server_cpu_before = process_cpu_ms(server.pid());
  Measured measured = run_measured(argv, server.mxctl_env(state), config.work_dir);
  PassResult pass;
  pass.ran = true;
  pass.exit_code = measured.exit_code;
  pass.wall_ms = measured.wall_ms;
  pass.cpu_ms = measured.cpu_ms();
  pass.max_rss_kb = measured.max_rss_kb;
  if (const std::optional<std::uint64_t> answered = server.requests_answered(); answered && answered_before) {
    pass.server_requests = static_cast<long>(*answered - *answered_before);
  }
  if (const std::optional<double> server_cpu = process_cpu_ms(server.pid()); server_cpu && server_cpu_before) {
    pass.server_cpu_ms = *server_cpu - *server_cpu_before;
  }
  std::smatch match;
  static const std::regex k_stats(R"(Requests: (\d+) \((\d+) reads, (\d+) writes, (\d+) retried\))");
  if (!std::regex_search(measured.err, match, k_stats)) {
    throw std::runtime_error(label + ": no --stats line (exit " + std::to_string(measured.exit_code) +
                             "):\n" + measured.err.substr(0, 4000));
  }
  static const std::regex k_window(R"(Operations in flight at once: (\d+) to (\d+))");
  if (std::smatch window; std::regex_search(measured.err, window, k_window)) {
    pass.window_narrowest = std::stoi(window[1]);
    pass.window_widest = std::stoi(window[2]);
  }
  pass.judged_unchanged = measured.err.find("(the converged verdict)") != std::string::npos;
  pass.requests = std::stol(match[1]);
  pass.reads = std::stol(match[2]);
  pass.writes = std::stol(match[3]);
  pass.retried = std::stol(match[4]);
  if (config.verbose) {
    std::cerr << "  " << label << ": " << static_cast<long>(pass.wall_ms) << " ms wall, "
              << static_cast<long>(pass.cpu_ms) << " ms CPU, " << pass.max_rss_kb / 1024 << " MB, " << pass.requests
              << " requests (" << pass.reads << " r, " << pass.writes << " w)";
    if (pass.server_requests >= 0) {
      std::cerr << ", server counted " << pass.server_requests;
    }
    if (pass.server_cpu_ms >= 0) {
      std::cerr << ", server CPU " << static_cast<long>(pass.server_cpu_ms) << " ms";
    }
    if (pass.window_widest > 0) {
      std::cerr << ", in flight " << pass.window_narrowest << " to " << pass.window_widest;
    }
    std::cerr << "\n";
  }
  if (measured.exit_code != 0) {
    throw std::runtime_error(label + ": mxctl exited " + std::to_string(measured.exit_code) + ":\n" +
                             measured.err.substr(0, 4000));
  }
  return pass;
}

// A copy of the store without the sync token and the snapshots behind it:
// the next pass must read everything, as the first pass on a new machine.
// Through the store's own connection, which keeps the pages' checksums.
void copy_without_sync_token(const std::string& from, const std::string& to) {
  std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing);
  auto db = adapters::sqlite::Database::open(to, "open " + to);
  if (!db) {
    throw std::runtime_error(db.error().message);
  }
  auto cleared = (*db)->exec("UPDATE meta SET sync_token = ''; DELETE FROM room_snapshots;", "clear the sync token");
  if (!cleared) {
    throw std::runtime_error(cleared.error().message);
  }
}

void expect_no_writes(const PassResult& pass, const std::string& label) {
  if (pass.writes != 0) {
    throw std::runtime_error(label + ": a converged pass wrote " + std::to_string(pass.writes) + " times");
  }
}

}  // namespace

std::unique_ptr<BenchServer> start_server(const BenchConfig& config, const std::string& dir, int delay_ms) {
  std::filesystem::create_directories(dir);
  if (config.given) {
    return std::make_unique<GivenServer>(*config.given);
  }
  if (!config.synapse_scripts.empty()) {
    return std::make_unique<SynapseServer>(config.synapse_scripts, dir + "/synapse");
  }
  return std::make_unique<SimProcess>(config.mxsim, dir, delay_ms);
}

SizeResult run_size(const InstanceSize& size, const BenchConfig& config) {
  SizeResult result;
  result.size = size.name;
  Instance instance = generate(size, config.seed);
  if (config.given) {
    std::string lower = size.name;
    for (char& c : lower) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    prefix_keys(instance, config.key_prefix + lower + "-");
  }
  result.users = instance.users.size();
  result.rooms = instance.rooms();
  result.memberships = instance.memberships();
  std::string dir = config.work_dir + "/" + size.name;
  std::filesystem::remove_all(dir);
  std::string manifests = dir + "/manifests";
  if (std::string problem = write_manifests(instance, manifests); !problem.empty()) {
    throw std::runtime_error(problem);
  }
  std::string state = dir + "/mxctl.db";
  std::unique_ptr<BenchServer> server = start_server(config, dir, 0);
  const BenchServer& sim = *server;
  result.server = sim.describe();
  std::string parallel = std::to_string(config.parallel);

  result.cold_apply = run_pass(sim, config, "cold apply", {"apply", manifests, "--yes", "--parallel", parallel}, state);
  result.catch_up = run_pass(sim, config, "first pass after apply", {"reconcile", manifests}, state);
  expect_no_writes(result.catch_up, "first pass after apply");
  std::string tokenless = dir + "/mxctl-no-token.db";
  copy_without_sync_token(state, tokenless);
  result.noop_without_token = run_pass(sim, config, "no-op without sync token", {"reconcile", manifests}, tokenless);
  expect_no_writes(result.noop_without_token, "no-op without sync token");
  result.noop_with_token = run_pass(sim, config, "no-op with sync token", {"reconcile", manifests}, state);
  expect_no_writes(result.noop_with_token, "no-op with sync token");
  result.noop_converged = run_pass(sim, config, "converged no-op", {"reconcile", manifests}, state);
  expect_no_writes(result.noop_converged, "converged no-op");

  // Plan only, on a copy so the passes below start from the same store, and
  // in a child so its memory does not raise later children's ru_maxrss.
  std::string plan_store = dir + "/mxctl-plan-only.db";
  std::filesystem::copy_file(state, plan_store, std::filesystem::copy_options::overwrite_existing);
  Measured plan_only = run_measured({config.self, "--plan-only", manifests, sim.url(), sim.token(), plan_store,
                                     sim.server_name(), sim.bot_user_id()},
                                    {}, config.work_dir);
  std::istringstream plan_out(plan_only.out);
  std::string verdict;
  plan_out >> verdict >> result.compile_cpu_ms >> result.diff_cpu_ms;
  if (plan_only.exit_code != 0 || (verdict != "empty" && verdict != "changes")) {
    throw std::runtime_error("plan only: " + plan_only.err + plan_only.out);
  }
  result.plan_only_empty = verdict == "empty";
  if (config.verbose) {
    std::cerr << "  plan only: compile " << result.compile_cpu_ms << " ms, diff " << result.diff_cpu_ms
              << " ms CPU, plan " << verdict << "\n";
  }

  // Three small changes, one pass each, as an operator's edit would come.
  GenCommunityMember& member = instance.communities[0].members[1];
  member.trust = trust_in_other_band(member.trust);
  write_manifests(instance, manifests);
  result.change_trust = run_pass(sim, config, "change one trust score", {"reconcile", manifests}, state);

  GenCommunity& community = instance.communities[0];
  for (int user = 0; user < static_cast<int>(instance.users.size()); ++user) {
    bool present = false;
    for (const GenCommunityMember& existing : community.members) {
      present = present || existing.user == user;
    }
    if (!present) {
      community.members.push_back({user, 20, false});
      break;
    }
  }
  write_manifests(instance, manifests);
  result.change_member = run_pass(sim, config, "add one community member", {"reconcile", manifests}, state);

  instance.councils[0].name += " (renamed)";
  write_manifests(instance, manifests);
  result.change_rename = run_pass(sim, config, "rename one council", {"reconcile", manifests}, state);

  result.after_changes = run_pass(sim, config, "no-op after the changes", {"reconcile", manifests}, state);
  expect_no_writes(result.after_changes, "no-op after the changes");
  return result;
}

ThroughputResult run_throughput(const InstanceSize& size, int delay_ms, const BenchConfig& config) {
  ThroughputResult result;
  result.ran = true;
  result.size = size.name;
  result.delay_ms = config.synapse_scripts.empty() ? delay_ms : 0;  // a real server takes its own time
  result.parallel = config.parallel;
  Instance instance = generate(size, config.seed);
  std::string dir = config.work_dir + "/throughput-" + size.name;
  std::filesystem::remove_all(dir);
  std::string manifests = dir + "/manifests";
  if (std::string problem = write_manifests(instance, manifests); !problem.empty()) {
    throw std::runtime_error(problem);
  }
  {
    std::unique_ptr<BenchServer> server = start_server(config, dir + "/serial", delay_ms);
    result.server = server->describe();
    result.serial = run_pass(*server, config, "cold apply, 1 in flight",
                             {"apply", manifests, "--yes", "--parallel", "1"}, dir + "/serial.db");
  }
  {
    std::unique_ptr<BenchServer> server = start_server(config, dir + "/concurrent", delay_ms);
    result.concurrent = run_pass(*server, config, "cold apply, " + std::to_string(config.parallel) + " in flight",
                                 {"apply", manifests, "--yes", "--parallel", std::to_string(config.parallel)},
                                 dir + "/concurrent.db");
  }
  return result;
}

}  // namespace bench
