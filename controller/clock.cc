#include "controller/clock.h"

#include <chrono>
#include <cstdio>
#include <regex>

namespace controller {

std::int64_t SystemClock::now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::optional<std::int64_t> parse_time_ms(const std::string& text) {
  using namespace std::chrono;
  static const std::regex k_format(
      R"(^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|\+00:00)?)?$)");
  std::smatch m;
  if (!std::regex_match(text, m, k_format)) {
    return std::nullopt;
  }
  const year_month_day date{year{std::stoi(m[1])}, month{static_cast<unsigned>(std::stoi(m[2]))},
                            day{static_cast<unsigned>(std::stoi(m[3]))}};
  if (!date.ok()) {
    return std::nullopt;
  }
  milliseconds at = duration_cast<milliseconds>(sys_days(date).time_since_epoch());
  if (m[4].matched) {
    const int h = std::stoi(m[4]);
    const int mi = std::stoi(m[5]);
    const int s = std::stoi(m[6]);
    if (h > 23 || mi > 59 || s > 60) {
      return std::nullopt;
    }
    // A time without a zone would be read in some local zone by a person;
    // only UTC is unambiguous, so it must say so.
    if (!m[8].matched) {
      return std::nullopt;
    }
    at += hours(h) + minutes(mi) + seconds(s);
    if (m[7].matched) {
      std::string fraction = m[7].str();
      fraction.resize(3, '0');
      at += milliseconds(std::stoi(fraction));
    }
  }
  return at.count();
}

std::string format_time(std::int64_t ms) {
  using namespace std::chrono;
  const sys_time<milliseconds> at{milliseconds(ms)};
  const sys_days day = floor<days>(at);
  const year_month_day date{day};
  const hh_mm_ss time{floor<seconds>(at - day)};
  char text[32];
  std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()));
  return text;
}

}  // namespace controller
