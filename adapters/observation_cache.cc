#include "adapters/observation_cache.h"

#include "adapters/sha256.h"

namespace adapters {

std::string snapshot_digest(std::string_view text) { return sha256_hex(text); }

}  // namespace adapters
