#include "mxsim/faults.h"

#include "mxsim/errors.h"

namespace mxsim {

nlohmann::json FaultRule::to_json() const {
  nlohmann::json json = {{"id", id},       {"method", method},   {"path_prefix", path_prefix},
                         {"path_regex", path_regex}, {"times", times}, {"status", status},
                         {"errcode", errcode}, {"error", error},  {"delay_ms", delay_ms},
                         {"drop", drop}};
  if (retry_after_ms) {
    json["retry_after_ms"] = *retry_after_ms;
  }
  return json;
}

FaultRule FaultRule::from_json(const nlohmann::json& json) {
  FaultRule rule;
  try {
    rule.method = json.value("method", std::string("*"));
    rule.path_prefix = json.value("path_prefix", json.value("path", std::string()));
    rule.path_regex = json.value("path_regex", std::string());
    rule.times = json.value("times", int64_t{1});
    rule.status = json.value("status", 0);
    rule.errcode = json.value("errcode", std::string("M_UNKNOWN"));
    rule.error = json.value("error", std::string("Injected fault"));
    if (json.contains("retry_after_ms") && !json.at("retry_after_ms").is_null()) {
      rule.retry_after_ms = json.at("retry_after_ms").get<int64_t>();
    }
    rule.delay_ms = json.value("delay_ms", int64_t{0});
    rule.drop = json.value("drop", false);
  } catch (const nlohmann::json::exception& error) {
    throw bad_json(std::string("bad fault rule: ") + error.what());
  }
  if (rule.status == 0 && rule.delay_ms == 0 && !rule.drop) {
    throw bad_json("a fault needs status, delay_ms or drop");
  }
  if (rule.times == 0 || rule.times < -1) {
    throw bad_json("times must be positive or -1");
  }
  return rule;
}

uint64_t FaultInjector::add(FaultRule rule) {
  Entry entry;
  if (!rule.path_regex.empty()) {
    try {
      entry.regex = std::regex(rule.path_regex);
    } catch (const std::regex_error& error) {
      throw bad_json("bad path_regex: " + std::string(error.what()));
    }
  }
  std::lock_guard lock(m_mutex);
  rule.id = ++m_next_id;
  entry.rule = std::move(rule);
  m_entries.push_back(std::move(entry));
  return m_next_id;
}

uint64_t FaultInjector::fail_next(const std::string& method, const std::string& path_prefix, int times, int status,
                                  const std::string& errcode) {
  FaultRule rule;
  rule.method = method;
  rule.path_prefix = path_prefix;
  rule.times = times;
  rule.status = status;
  rule.errcode = errcode;
  return add(std::move(rule));
}

bool FaultInjector::remove(uint64_t id) {
  std::lock_guard lock(m_mutex);
  for (auto it = m_entries.begin(); it != m_entries.end(); ++it) {
    if (it->rule.id == id) {
      m_entries.erase(it);
      return true;
    }
  }
  return false;
}

void FaultInjector::clear() {
  std::lock_guard lock(m_mutex);
  m_entries.clear();
}

std::vector<FaultRule> FaultInjector::rules() const {
  std::lock_guard lock(m_mutex);
  std::vector<FaultRule> out;
  for (const auto& entry : m_entries) {
    out.push_back(entry.rule);
  }
  return out;
}

std::optional<FaultDecision> FaultInjector::take(const std::string& method, const std::string& raw_path,
                                                 const std::string& decoded_path) {
  std::lock_guard lock(m_mutex);
  for (auto it = m_entries.begin(); it != m_entries.end(); ++it) {
    const FaultRule& rule = it->rule;
    if (rule.method != "*" && rule.method != method) {
      continue;
    }
    auto path_matches = [&](const std::string& path) {
      if (!rule.path_prefix.empty() && path.rfind(rule.path_prefix, 0) != 0) {
        return false;
      }
      if (it->regex && !std::regex_search(path, *it->regex)) {
        return false;
      }
      return true;
    };
    if (!path_matches(raw_path) && !path_matches(decoded_path)) {
      continue;
    }
    FaultDecision decision;
    decision.delay_ms = rule.delay_ms;
    if (rule.drop) {
      ApiResponse response;
      response.status = rule.status > 0 ? rule.status : 500;
      response.drop_connection = true;
      decision.response = std::move(response);
    } else if (rule.status > 0) {
      nlohmann::json body = {{"errcode", rule.errcode}, {"error", rule.error}};
      ApiResponse response = ApiResponse::json(rule.status, body);
      if (rule.retry_after_ms) {
        response.body["retry_after_ms"] = *rule.retry_after_ms;
        response.headers.emplace_back("Retry-After", std::to_string((*rule.retry_after_ms + 999) / 1000));
      }
      decision.response = std::move(response);
    }
    if (it->rule.times > 0 && --it->rule.times == 0) {
      m_entries.erase(it);
    }
    return decision;
  }
  return std::nullopt;
}

}  // namespace mxsim
