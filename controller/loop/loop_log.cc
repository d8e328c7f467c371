#include "controller/loop/loop_log.h"

#include <cstdio>
#include <ctime>
#include <sstream>

#include <nlohmann/json.hpp>

#include "model/printable.h"

namespace controller {

namespace {

const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::info: return "info";
    case LogLevel::warning: return "warning";
    case LogLevel::error: return "error";
  }
  return "info";
}

std::int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string log_time(std::int64_t ms) {
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  const std::size_t length = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  char millis[8];
  std::snprintf(millis, sizeof millis, ".%03dZ", static_cast<int>(ms % 1000));
  return std::string(text, length) + millis;
}

LoopLog::LoopLog(std::ostream& out, LogFormat format, std::function<std::int64_t()> now_ms)
    : m_out(out), m_format(format), m_now_ms(now_ms ? std::move(now_ms) : system_now_ms) {}

void LoopLog::write(LogLevel level, std::string_view message, const LogFields& fields) {
  const std::string time = log_time(m_now_ms());
  std::string line;
  if (m_format == LogFormat::json) {
    nlohmann::json object = {{"time", time}, {"level", level_name(level)}, {"message", message}};
    if (!fields.key.empty()) {
      object["key"] = fields.key;
    }
    if (!fields.operation.empty()) {
      object["operation"] = fields.operation;
    }
    if (!fields.room_id.empty()) {
      object["room_id"] = fields.room_id;
    }
    if (fields.duration) {
      object["duration_ms"] = fields.duration->count();
    }
    // Invalid UTF-8 from a server's message must not make the line unwritable.
    line = object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  } else {
    std::ostringstream text;
    text << time << ' ' << level_name(level) << ' ' << model::printable(std::string(message));
    if (!fields.key.empty()) {
      text << " key=" << model::printable(fields.key);
    }
    if (!fields.operation.empty()) {
      text << " operation=" << fields.operation;
    }
    if (!fields.room_id.empty()) {
      text << " room=" << model::printable(fields.room_id);
    }
    if (fields.duration) {
      text << " took=" << fields.duration->count() << "ms";
    }
    text << '\n';
    line = text.str();
  }
  std::lock_guard<std::mutex> lock(m_mutex);
  m_out.write(line.data(), static_cast<std::streamsize>(line.size()));
  m_out.flush();
}

}  // namespace controller
