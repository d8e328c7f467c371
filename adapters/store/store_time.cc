#include "adapters/store/store_time.h"

#include <cstdio>

namespace adapters {

std::string format_store_time(std::chrono::system_clock::time_point at, bool with_millis) {
  using namespace std::chrono;
  const auto ms = floor<milliseconds>(at);
  const auto midnight = floor<days>(ms);
  const year_month_day date{midnight};
  const hh_mm_ss time{ms - midnight};
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02d", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()));
  std::string text = buffer;
  if (with_millis) {
    std::snprintf(buffer, sizeof buffer, ".%03d", static_cast<int>(time.subseconds().count()));
    text += buffer;
  }
  return text + "Z";
}

std::chrono::system_clock::time_point parse_store_time(const std::string& text) {
  using namespace std::chrono;
  int y = 0;
  unsigned mo = 0;
  unsigned d = 0;
  int h = 0;
  int mi = 0;
  int s = 0;
  int ms = 0;
  if (std::sscanf(text.c_str(), "%d-%u-%uT%d:%d:%d.%d", &y, &mo, &d, &h, &mi, &s, &ms) < 6) {
    return system_clock::time_point{};
  }
  const sys_days date{year{y} / month{mo} / day{d}};
  return time_point_cast<system_clock::duration>(date + hours{h} + minutes{mi} + seconds{s} + milliseconds{ms});
}

}  // namespace adapters
