#include "adapters/store/lock_holder_identity.h"

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <random>

namespace adapters {

std::string host_name() {
  char buffer[256] = {};
  if (gethostname(buffer, sizeof buffer - 1) != 0) {
    return "unknown-host";
  }
  return buffer;
}

std::string new_lock_id() {
  std::random_device random;
  std::uniform_int_distribution<std::uint64_t> any;
  const std::uint64_t value = any(random);
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
  return text;
}

}  // namespace adapters
