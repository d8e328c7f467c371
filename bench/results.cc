#include "bench/results.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

namespace bench {

namespace {

std::string fixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

std::string ms(double value) { return value >= 10000 ? fixed(value / 1000, 1) + " s" : fixed(value, 0) + " ms"; }

std::string mb(long kb) { return fixed(static_cast<double>(kb) / 1024.0, 0) + " MB"; }

std::string requests(const PassResult& pass) {
  if (!pass.ran) {
    return "-";
  }
  std::string text = std::to_string(pass.requests) + " (" + std::to_string(pass.reads) + " r / " +
                     std::to_string(pass.writes) + " w)";
  if (pass.exit_code != 0) {
    text += " exit " + std::to_string(pass.exit_code);
  }
  return text;
}

// A change's cost in one cell: requests, writes and wall time.
std::string change(const PassResult& pass) {
  if (!pass.ran) {
    return "-";
  }
  return requests(pass) + ", " + ms(pass.wall_ms);
}

// A no-op pass in one cell: wall, CPU, peak RSS, requests.
std::string noop(const PassResult& pass) {
  if (!pass.ran) {
    return "-";
  }
  return ms(pass.wall_ms) + " wall, " + ms(pass.cpu_ms) + " CPU, " + mb(pass.max_rss_kb) + ", " + requests(pass);
}

nlohmann::json pass_json(const PassResult& pass) {
  if (!pass.ran) {
    return nullptr;
  }
  return {{"exit_code", pass.exit_code},         {"wall_ms", pass.wall_ms},       {"cpu_ms", pass.cpu_ms},
          {"cpu_percent_of_wall", pass.cpu_percent()}, {"max_rss_kb", pass.max_rss_kb}, {"requests", pass.requests},
          {"reads", pass.reads},                 {"writes", pass.writes},         {"retried", pass.retried},
          {"server_requests", pass.server_requests >= 0 ? nlohmann::json(pass.server_requests) : nlohmann::json()},
          {"server_cpu_ms", pass.server_cpu_ms >= 0 ? nlohmann::json(pass.server_cpu_ms) : nlohmann::json()},
          {"judged_unchanged", pass.judged_unchanged},
          {"server_cpu_percent_of_wall",
           pass.server_cpu_ms >= 0 ? nlohmann::json(pass.server_cpu_percent()) : nlohmann::json()},
          {"window_narrowest", pass.window_narrowest},
          {"window_widest", pass.window_widest},
          {"requests_per_second", pass.requests_per_second()}};
}

// The executor's window in one cell.
std::string window(const PassResult& pass) {
  return pass.window_widest > 0 ? std::to_string(pass.window_narrowest) + " to " + std::to_string(pass.window_widest)
                                : "-";
}

// The server's CPU in one cell, when its process was known.
std::string server_cpu(const PassResult& pass) {
  if (!pass.ran || pass.server_cpu_ms < 0) {
    return "-";
  }
  return ms(pass.server_cpu_ms) + " (" + fixed(pass.server_cpu_percent(), 1) + "%)";
}

long peak_rss(const SizeResult& size) {
  long peak = 0;
  for (const PassResult* pass : {&size.cold_apply, &size.catch_up, &size.noop_without_token, &size.noop_with_token,
                                 &size.noop_converged,
                                 &size.change_trust, &size.change_member, &size.change_rename, &size.after_changes}) {
    peak = std::max(peak, pass->max_rss_kb);
  }
  return peak;
}

double max_of(const std::vector<double>& values) {
  return values.empty() ? 0 : *std::max_element(values.begin(), values.end());
}

// The targets of `mxctl run`: the loop's own issue.
void check_loop_targets(std::vector<TargetCheck>& checks, const LoopResult& loop) {
  if (!loop.repair_ms.empty()) {
    std::string on = " (" + loop.size + ", " + std::to_string(loop.repair_ms.size()) + " drifts)";
    checks.push_back({"mxctl run: drift → repair p95 < 1 s" + on,
                      "p95 " + ms(quantile(loop.repair_ms, 0.95)) + " (p50 " + ms(quantile(loop.repair_ms, 0.5)) +
                          ", max " + ms(max_of(loop.repair_ms)) + ")",
                      quantile(loop.repair_ms, 0.95) < 1000});
    checks.push_back({"mxctl run: ≤ 10 homeserver requests per targeted repair (every drift)" + on,
                      "max " + fixed(max_of(loop.requests), 0) + " (median " + fixed(quantile(loop.requests, 0.5), 0) +
                          ")",
                      max_of(loop.requests) <= 10});
  }
  if (loop.idle_seconds > 0) {
    checks.push_back({"mxctl run: idle CPU < 1% of one core over " + fixed(loop.idle_seconds, 0) + " s (" +
                          loop.size + ")",
                      fixed(loop.idle_cpu_percent(), 2) + "% (" + fixed(loop.idle_cpu_ms, 0) + " ms)",
                      loop.idle_cpu_percent() < 1});
  }
  if (loop.rss_iterations > 0) {
    // Allocator noise is not growth; 5% over the early reading is.
    checks.push_back({"mxctl run: RSS after " + std::to_string(loop.rss_iterations) +
                          " iterations ≤ 1.05× the one after 10 (" + loop.rss_size + ")",
                      fixed(static_cast<double>(loop.rss_kb_late) / 1024.0, 1) + " MB vs " +
                          fixed(static_cast<double>(loop.rss_kb_early) / 1024.0, 1) + " MB (" +
                          fixed(loop.rss_ratio(), 2) + "×)",
                      loop.rss_kb_early > 0 && loop.rss_ratio() <= 1.05});
  }
  bool both = loop.rss_iterations == 0 || loop.rss_exit_code == 0;
  checks.push_back({"mxctl run: exits 0 on SIGTERM",
                    "exit " + std::to_string(loop.exit_code) +
                        (loop.rss_iterations > 0 ? ", iterations' run exit " + std::to_string(loop.rss_exit_code) : ""),
                    loop.exit_code == 0 && both});
}

std::string loop_markdown(const LoopResult& loop) {
  std::ostringstream out;
  out << "\n`mxctl run` on " << loop.size << " (" << loop.rooms << " rooms, " << loop.server << "): " << loop.repair_ms.size()
      << " drifts (a managed room renamed through the client API, " << loop.pause_ms
      << " ms apart), then idle:\n\n| | |\n|---|---|\n";
  if (!loop.repair_ms.empty()) {
    out << "| drift → repair: p50 / p95 / max | " << ms(quantile(loop.repair_ms, 0.5)) << " / "
        << ms(quantile(loop.repair_ms, 0.95)) << " / " << ms(max_of(loop.repair_ms)) << " |\n";
    out << "| homeserver requests per repair (mxctl's counter): median / max | "
        << fixed(quantile(loop.requests, 0.5), 0) << " / " << fixed(max_of(loop.requests), 0) << " |\n";
    out << "| passes per drift: median / max | " << fixed(quantile(loop.passes, 0.5), 0) << " / "
        << fixed(max_of(loop.passes), 0) << " |\n";
  }
  if (loop.idle_seconds > 0) {
    out << "| idle: CPU over " << fixed(loop.idle_seconds, 0) << " s | " << fixed(loop.idle_cpu_ms, 0) << " ms ("
        << fixed(loop.idle_cpu_percent(), 2) << "% of one core), " << fixed(loop.idle_passes, 0) << " passes |\n";
  }
  if (loop.rss_iterations > 0) {
    out << "| RSS on " << loop.rss_size << " after 10 / " << loop.rss_iterations << " drift → repair iterations | "
        << fixed(static_cast<double>(loop.rss_kb_early) / 1024.0, 1) << " / "
        << fixed(static_cast<double>(loop.rss_kb_late) / 1024.0, 1) << " MB (" << fixed(loop.rss_ratio(), 2)
        << "×; " << fixed(loop.rss_iterations_seconds, 0) << " s for the iterations) |\n";
  }
  out << "| exit after SIGTERM | " << loop.exit_code;
  if (loop.rss_iterations > 0) {
    out << " (iterations' run: " << loop.rss_exit_code << ")";
  }
  out << " |\n";
  return out.str();
}

nlohmann::json loop_json(const LoopResult& loop) {
  return {{"size", loop.size},
          {"rooms", loop.rooms},
          {"pause_ms", loop.pause_ms},
          {"repair_ms", loop.repair_ms},
          {"repair_ms_p50", quantile(loop.repair_ms, 0.5)},
          {"repair_ms_p95", quantile(loop.repair_ms, 0.95)},
          {"repair_ms_max", max_of(loop.repair_ms)},
          {"requests_per_repair", loop.requests},
          {"requests_per_repair_median", quantile(loop.requests, 0.5)},
          {"requests_per_repair_max", max_of(loop.requests)},
          {"passes_per_drift", loop.passes},
          {"idle_seconds", loop.idle_seconds},
          {"idle_cpu_ms", loop.idle_cpu_ms},
          {"idle_cpu_percent", loop.idle_cpu_percent()},
          {"idle_passes", loop.idle_passes},
          {"rss_size", loop.rss_size},
          {"rss_iterations", loop.rss_iterations},
          {"rss_kb_after_10", loop.rss_kb_early},
          {"rss_kb_after_last", loop.rss_kb_late},
          {"rss_ratio", loop.rss_ratio()},
          {"rss_iterations_seconds", loop.rss_iterations_seconds},
          {"exit_code", loop.exit_code},
          {"rss_exit_code", loop.rss_exit_code}};
}

}  // namespace

double quantile(std::vector<double> values, double q) {
  if (values.empty()) {
    return 0;
  }
  std::sort(values.begin(), values.end());
  auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(values.size())));
  return values[std::clamp<std::size_t>(rank, 1, values.size()) - 1];
}

double LoopResult::idle_cpu_percent() const { return idle_seconds > 0 ? idle_cpu_ms / (idle_seconds * 10.0) : 0; }

double LoopResult::rss_ratio() const {
  return rss_kb_early > 0 ? static_cast<double>(rss_kb_late) / static_cast<double>(rss_kb_early) : 0;
}

double SizeResult::plan_cpu_per_100k() const {
  return memberships > 0 ? (compile_cpu_ms + diff_cpu_ms) * 100000.0 / static_cast<double>(memberships) : 0;
}

double ThroughputResult::speedup() const {
  double serial_rate = serial.requests_per_second();
  return serial_rate > 0 ? concurrent.requests_per_second() / serial_rate : 0;
}

std::vector<TargetCheck> check_targets(const std::vector<SizeResult>& sizes, const ThroughputResult& throughput,
                                       const LoopResult& loop) {
  std::vector<TargetCheck> checks;
  if (!sizes.empty()) {
    // The targets are stated for L; the largest size measured stands in.
    const SizeResult& size = sizes.back();
    std::string on = " (" + size.size + ")";
    const PassResult& with = size.noop_with_token;
    checks.push_back({"no-op with sync token: ≤ 10 requests, 0 writes, < 2 s" + on,
                      std::to_string(with.requests) + " requests, " + std::to_string(with.writes) + " writes, " +
                          ms(with.wall_ms),
                      with.ran && with.requests <= 10 && with.writes == 0 && with.wall_ms < 2000});
    const PassResult& converged = size.noop_converged;
    checks.push_back({"converged no-op: answered by the converged verdict, ≤ 5 requests, < 400 ms wall and CPU, "
                      "< 150 MB" + on,
                      std::string(converged.judged_unchanged ? "" : "planned in full, ") +
                          std::to_string(converged.requests) + " requests, " + ms(converged.wall_ms) + " wall, " +
                          ms(converged.cpu_ms) + " CPU, " + mb(converged.max_rss_kb),
                      converged.ran && converged.judged_unchanged && converged.requests <= 5 &&
                          converged.writes == 0 && converged.wall_ms < 400 && converged.cpu_ms < 400 &&
                          converged.max_rss_kb < 150 * 1024});
    long bound = static_cast<long>(size.rooms / 100 + size.users / 500 + 10);
    const PassResult& without = size.noop_without_token;
    checks.push_back({"no-op without sync token: ≤ rooms/100 + users/500 + 10 = " + std::to_string(bound) +
                          " requests, 0 writes" + on,
                      std::to_string(without.requests) + " requests, " + std::to_string(without.writes) + " writes",
                      without.ran && without.requests <= bound && without.writes == 0});
    checks.push_back({"plan only: < 250 ms CPU per 100,000 memberships" + on,
                      fixed(size.plan_cpu_per_100k(), 0) + " ms (compile " + fixed(size.compile_cpu_ms, 0) +
                          " + diff " + fixed(size.diff_cpu_ms, 0) + " ms for " + std::to_string(size.memberships) + ")",
                      size.plan_only_empty && size.plan_cpu_per_100k() < 250});
    checks.push_back({"peak RSS < 400 MB (largest of every pass)" + on, mb(peak_rss(size)),
                      peak_rss(size) > 0 && peak_rss(size) < 400 * 1024});
    long worst = std::max({size.change_trust.requests, size.change_member.requests, size.change_rename.requests});
    checks.push_back({"small change: ≤ 20 requests each" + on,
                      std::to_string(size.change_trust.requests) + " / " + std::to_string(size.change_member.requests) +
                          " / " + std::to_string(size.change_rename.requests) + " (trust / member / rename)",
                      size.change_trust.ran && worst <= 20});
    double per_request_us =
        size.cold_apply.requests > 0 ? size.cold_apply.cpu_ms * 1000 / static_cast<double>(size.cold_apply.requests) : 0;
    if (size.server == "mxsim") {
      // Against mxsim with no delay the server answers in microseconds, so
      // this share is mxctl's CPU per request against mxsim's; the
      // throughput rows measure it against a server with network-like latency.
      checks.push_back({"cold apply, mxsim without delay: mxctl CPU < 10% of wall" + on,
                        fixed(size.cold_apply.cpu_percent(), 1) + "% (" + fixed(per_request_us, 0) +
                            " µs of CPU per request)",
                        size.cold_apply.ran && size.cold_apply.cpu_percent() < 10});
    } else {
      // On a real server the server must be the bottleneck, and kept busy.
      checks.push_back({"cold apply on " + size.server + ": mxctl CPU < 5% of wall" + on,
                        fixed(size.cold_apply.cpu_percent(), 1) + "% (" + fixed(per_request_us, 0) +
                            " µs of CPU per request)",
                        size.cold_apply.ran && size.cold_apply.cpu_percent() < 5});
      if (size.cold_apply.server_cpu_ms >= 0) {
        checks.push_back({"cold apply on " + size.server + ": server CPU > 90% of wall" + on,
                          fixed(size.cold_apply.server_cpu_percent(), 1) + "%",
                          size.cold_apply.server_cpu_percent() > 90});
      }
    }
  }
  if (throughput.ran && throughput.server == "mxsim") {
    checks.push_back({"cold apply, " + std::to_string(throughput.delay_ms) + " ms per request: " +
                          std::to_string(throughput.parallel) + " in flight ≥ 4× the throughput of 1 (" +
                          throughput.size + ")",
                      fixed(throughput.speedup(), 1) + "× (" + fixed(throughput.concurrent.requests_per_second(), 0) +
                          " vs " + fixed(throughput.serial.requests_per_second(), 0) + " requests/s)",
                      throughput.speedup() >= 4});
    checks.push_back({"cold apply, " + std::to_string(throughput.delay_ms) + " ms per request, " +
                          std::to_string(throughput.parallel) + " in flight: mxctl CPU < 10% of wall (" +
                          throughput.size + ")",
                      fixed(throughput.concurrent.cpu_percent(), 1) + "%",
                      throughput.concurrent.ran && throughput.concurrent.cpu_percent() < 10});
  }
  if (loop.ran) {
    check_loop_targets(checks, loop);
  }
  return checks;
}

std::string to_markdown(const Machine& machine, const std::vector<SizeResult>& sizes,
                        const ThroughputResult& throughput, double total_seconds, const LoopResult& loop) {
  std::ostringstream out;
  out << "Machine: " << machine.cpu_model << ", " << machine.cores << " cores, " << machine.memory_mb
      << " MB RAM; build " << machine.build_type << "; commit " << machine.commit << "; " << machine.date
      << "; bench took " << fixed(total_seconds, 0) << " s.\n\n";
  // Without sizes (the loop alone) there is no main table.
  if (!sizes.empty()) {
    out << "| | ";
    for (const SizeResult& size : sizes) {
      out << size.size << " | ";
    }
    out << "\n|---|";
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      out << "---|";
    }
    out << "\n";
    auto row = [&](const std::string& label, auto cell) {
      out << "| " << label << " | ";
      for (const SizeResult& size : sizes) {
        out << cell(size) << " | ";
      }
      out << "\n";
    };
    row("server", [](const SizeResult& s) { return s.server; });
    row("instance: users / rooms / memberships", [](const SizeResult& s) {
      return std::to_string(s.users) + " / " + std::to_string(s.rooms) + " / " + std::to_string(s.memberships);
    });
    row("cold apply: wall", [](const SizeResult& s) { return ms(s.cold_apply.wall_ms); });
    row("cold apply: requests", [](const SizeResult& s) { return requests(s.cold_apply); });
    row("cold apply: requests/s", [](const SizeResult& s) { return fixed(s.cold_apply.requests_per_second(), 0); });
    row("cold apply: mxctl CPU (share of wall; rest is waiting on the server)", [](const SizeResult& s) {
      return ms(s.cold_apply.cpu_ms) + " (" + fixed(s.cold_apply.cpu_percent(), 1) + "%)";
    });
    row("cold apply: server CPU (share of wall)", [](const SizeResult& s) { return server_cpu(s.cold_apply); });
    row("cold apply: operations in flight (window)", [](const SizeResult& s) { return window(s.cold_apply); });
    row("first pass after apply (reads what apply wrote)", [](const SizeResult& s) { return noop(s.catch_up); });
    row("no-op, no sync token: wall, CPU, peak RSS, requests", [](const SizeResult& s) { return noop(s.noop_without_token); });
    row("no-op, sync token: wall, CPU, peak RSS, requests", [](const SizeResult& s) { return noop(s.noop_with_token); });
    row("converged no-op (the converged verdict): wall, CPU, peak RSS, requests", [](const SizeResult& s) {
      return noop(s.noop_converged) + (s.noop_converged.ran && !s.noop_converged.judged_unchanged ? " (planned!)" : "");
    });
    row("change one trust score", [](const SizeResult& s) { return change(s.change_trust); });
    row("add one community member", [](const SizeResult& s) { return change(s.change_member); });
    row("rename one council", [](const SizeResult& s) { return change(s.change_rename); });
    row("no-op after the changes", [](const SizeResult& s) { return requests(s.after_changes); });
    row("plan only: compile + diff CPU", [](const SizeResult& s) {
      return fixed(s.compile_cpu_ms, 1) + " + " + fixed(s.diff_cpu_ms, 1) + " ms" + (s.plan_only_empty ? "" : " (plan not empty!)");
    });
    row("plan only: CPU per 100,000 memberships", [](const SizeResult& s) { return fixed(s.plan_cpu_per_100k(), 0) + " ms"; });
    row("peak RSS of any pass", [](const SizeResult& s) { return mb(peak_rss(s)); });
  }
  if (throughput.ran) {
    out << "\nCold apply of " << throughput.size << " against " << throughput.server;
    if (throughput.server == "mxsim") {
      out << " with " << throughput.delay_ms << " ms per request";
    }
    out << ":\n\n| in flight (most) | window | wall | requests | requests/s | mxctl CPU | server CPU |\n"
           "|---|---|---|---|---|---|---|\n";
    for (const auto& [label, pass] : {std::pair<std::string, const PassResult*>{"1", &throughput.serial},
                                      {std::to_string(throughput.parallel), &throughput.concurrent}}) {
      out << "| " << label << " | " << window(*pass) << " | " << ms(pass->wall_ms) << " | " << requests(*pass) << " | "
          << fixed(pass->requests_per_second(), 1) << " | " << ms(pass->cpu_ms) << " | " << server_cpu(*pass)
          << " |\n";
    }
    out << "\nSpeed-up: " << fixed(throughput.speedup(), 2) << "×\n";
  }
  if (loop.ran) {
    out << loop_markdown(loop);
  }
  out << "\n| target | measured | met |\n|---|---|---|\n";
  for (const TargetCheck& check : check_targets(sizes, throughput, loop)) {
    out << "| " << check.target << " | " << check.measured << " | " << (check.met ? "yes" : "**no**") << " |\n";
  }
  return out.str();
}

std::string to_json(const Machine& machine, const std::vector<SizeResult>& sizes, const ThroughputResult& throughput,
                    double total_seconds, const LoopResult& loop) {
  nlohmann::json doc;
  doc["machine"] = {{"date", machine.date},     {"cpu_model", machine.cpu_model},   {"cores", machine.cores},
                    {"memory_mb", machine.memory_mb}, {"build_type", machine.build_type}, {"commit", machine.commit}};
  doc["total_seconds"] = total_seconds;
  doc["sizes"] = nlohmann::json::array();
  for (const SizeResult& size : sizes) {
    doc["sizes"].push_back({{"size", size.size},
                            {"server", size.server},
                            {"users", size.users},
                            {"rooms", size.rooms},
                            {"memberships", size.memberships},
                            {"cold_apply", pass_json(size.cold_apply)},
                            {"first_pass_after_apply", pass_json(size.catch_up)},
                            {"noop_without_sync_token", pass_json(size.noop_without_token)},
                            {"noop_with_sync_token", pass_json(size.noop_with_token)},
                            {"noop_converged", pass_json(size.noop_converged)},
                            {"change_trust", pass_json(size.change_trust)},
                            {"change_new_member", pass_json(size.change_member)},
                            {"change_rename_council", pass_json(size.change_rename)},
                            {"noop_after_changes", pass_json(size.after_changes)},
                            {"plan_only",
                             {{"compile_cpu_ms", size.compile_cpu_ms},
                              {"diff_cpu_ms", size.diff_cpu_ms},
                              {"cpu_ms_per_100k_memberships", size.plan_cpu_per_100k()},
                              {"plan_empty", size.plan_only_empty}}}});
  }
  if (throughput.ran) {
    doc["throughput"] = {{"size", throughput.size},
                         {"server", throughput.server},
                         {"delay_ms", throughput.delay_ms},
                         {"parallel", throughput.parallel},
                         {"serial", pass_json(throughput.serial)},
                         {"concurrent", pass_json(throughput.concurrent)},
                         {"speedup", throughput.speedup()}};
  }
  if (loop.ran) {
    doc["loop"] = loop_json(loop);
  }
  doc["targets"] = nlohmann::json::array();
  for (const TargetCheck& check : check_targets(sizes, throughput, loop)) {
    doc["targets"].push_back({{"target", check.target}, {"measured", check.measured}, {"met", check.met}});
  }
  return doc.dump(2);
}

}  // namespace bench
