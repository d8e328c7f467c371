#include "bench/results.h"

#include <algorithm>
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
          {"server_requests", pass.server_requests}, {"requests_per_second", pass.requests_per_second()}};
}

long peak_rss(const SizeResult& size) {
  long peak = 0;
  for (const PassResult* pass : {&size.cold_apply, &size.catch_up, &size.noop_without_token, &size.noop_with_token,
                                 &size.change_trust, &size.change_member, &size.change_rename, &size.after_changes}) {
    peak = std::max(peak, pass->max_rss_kb);
  }
  return peak;
}

}  // namespace

double SizeResult::plan_cpu_per_100k() const {
  return memberships > 0 ? (compile_cpu_ms + diff_cpu_ms) * 100000.0 / static_cast<double>(memberships) : 0;
}

double ThroughputResult::speedup() const {
  double serial_rate = serial.requests_per_second();
  return serial_rate > 0 ? concurrent.requests_per_second() / serial_rate : 0;
}

std::vector<TargetCheck> check_targets(const std::vector<SizeResult>& sizes, const ThroughputResult& throughput) {
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
    // Against mxsim with no delay the server answers in microseconds, so
    // this share is mxctl's CPU per request against mxsim's; the row below
    // measures it against a server with network-like latency.
    double per_request_us =
        size.cold_apply.requests > 0 ? size.cold_apply.cpu_ms * 1000 / static_cast<double>(size.cold_apply.requests) : 0;
    checks.push_back({"cold apply, mxsim without delay: mxctl CPU < 10% of wall" + on,
                      fixed(size.cold_apply.cpu_percent(), 1) + "% (" + fixed(per_request_us, 0) +
                          " µs of CPU per request)",
                      size.cold_apply.ran && size.cold_apply.cpu_percent() < 10});
  }
  if (throughput.ran) {
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
  return checks;
}

std::string to_markdown(const Machine& machine, const std::vector<SizeResult>& sizes,
                        const ThroughputResult& throughput, double total_seconds) {
  std::ostringstream out;
  out << "Machine: " << machine.cpu_model << ", " << machine.cores << " cores, " << machine.memory_mb
      << " MB RAM; build " << machine.build_type << "; commit " << machine.commit << "; " << machine.date
      << "; bench took " << fixed(total_seconds, 0) << " s.\n\n";
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
  row("instance: users / rooms / memberships", [](const SizeResult& s) {
    return std::to_string(s.users) + " / " + std::to_string(s.rooms) + " / " + std::to_string(s.memberships);
  });
  row("cold apply: wall", [](const SizeResult& s) { return ms(s.cold_apply.wall_ms); });
  row("cold apply: requests", [](const SizeResult& s) { return requests(s.cold_apply); });
  row("cold apply: requests/s", [](const SizeResult& s) { return fixed(s.cold_apply.requests_per_second(), 0); });
  row("cold apply: mxctl CPU (share of wall; rest is waiting on the server)", [](const SizeResult& s) {
    return ms(s.cold_apply.cpu_ms) + " (" + fixed(s.cold_apply.cpu_percent(), 1) + "%)";
  });
  row("first pass after apply (reads what apply wrote)", [](const SizeResult& s) { return noop(s.catch_up); });
  row("no-op, no sync token: wall, CPU, peak RSS, requests", [](const SizeResult& s) { return noop(s.noop_without_token); });
  row("no-op, sync token: wall, CPU, peak RSS, requests", [](const SizeResult& s) { return noop(s.noop_with_token); });
  row("change one trust score", [](const SizeResult& s) { return change(s.change_trust); });
  row("add one community member", [](const SizeResult& s) { return change(s.change_member); });
  row("rename one council", [](const SizeResult& s) { return change(s.change_rename); });
  row("no-op after the changes", [](const SizeResult& s) { return requests(s.after_changes); });
  row("plan only: compile + diff CPU", [](const SizeResult& s) {
    return fixed(s.compile_cpu_ms, 1) + " + " + fixed(s.diff_cpu_ms, 1) + " ms" + (s.plan_only_empty ? "" : " (plan not empty!)");
  });
  row("plan only: CPU per 100,000 memberships", [](const SizeResult& s) { return fixed(s.plan_cpu_per_100k(), 0) + " ms"; });
  row("peak RSS of any pass", [](const SizeResult& s) { return mb(peak_rss(s)); });
  if (throughput.ran) {
    out << "\nCold apply of " << throughput.size << " against mxsim with " << throughput.delay_ms
        << " ms per request:\n\n| in flight | wall | requests | requests/s | mxctl CPU |\n|---|---|---|---|---|\n";
    for (const auto& [label, pass] : {std::pair<std::string, const PassResult*>{"1", &throughput.serial},
                                      {std::to_string(throughput.parallel), &throughput.concurrent}}) {
      out << "| " << label << " | " << ms(pass->wall_ms) << " | " << requests(*pass) << " | "
          << fixed(pass->requests_per_second(), 1) << " | " << ms(pass->cpu_ms) << " |\n";
    }
    out << "\nSpeed-up: " << fixed(throughput.speedup(), 2) << "×\n";
  }
  out << "\n| target | measured | met |\n|---|---|---|\n";
  for (const TargetCheck& check : check_targets(sizes, throughput)) {
    out << "| " << check.target << " | " << check.measured << " | " << (check.met ? "yes" : "**no**") << " |\n";
  }
  return out.str();
}

std::string to_json(const Machine& machine, const std::vector<SizeResult>& sizes, const ThroughputResult& throughput,
                    double total_seconds) {
  nlohmann::json doc;
  doc["machine"] = {{"date", machine.date},     {"cpu_model", machine.cpu_model},   {"cores", machine.cores},
                    {"memory_mb", machine.memory_mb}, {"build_type", machine.build_type}, {"commit", machine.commit}};
  doc["total_seconds"] = total_seconds;
  doc["sizes"] = nlohmann::json::array();
  for (const SizeResult& size : sizes) {
    doc["sizes"].push_back({{"size", size.size},
                            {"users", size.users},
                            {"rooms", size.rooms},
                            {"memberships", size.memberships},
                            {"cold_apply", pass_json(size.cold_apply)},
                            {"first_pass_after_apply", pass_json(size.catch_up)},
                            {"noop_without_sync_token", pass_json(size.noop_without_token)},
                            {"noop_with_sync_token", pass_json(size.noop_with_token)},
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
                         {"delay_ms", throughput.delay_ms},
                         {"parallel", throughput.parallel},
                         {"serial", pass_json(throughput.serial)},
                         {"concurrent", pass_json(throughput.concurrent)},
                         {"speedup", throughput.speedup()}};
  }
  doc["targets"] = nlohmann::json::array();
  for (const TargetCheck& check : check_targets(sizes, throughput)) {
    doc["targets"].push_back({{"target", check.target}, {"measured", check.measured}, {"met", check.met}});
  }
  return doc.dump(2);
}

}  // namespace bench
