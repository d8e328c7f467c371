#include "adapters/app_database_settings.h"

#include <algorithm>

namespace adapters {

bool valid_notify_channel(const std::string& channel) {
  if (channel.empty() || channel.size() > 63 || (channel[0] >= '0' && channel[0] <= '9')) {
    return false;
  }
  return std::all_of(channel.begin(), channel.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

}  // namespace adapters
