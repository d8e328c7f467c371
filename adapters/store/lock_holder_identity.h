#pragma once
// Who takes a pass lock, as both engines record it: this host's name and a
// fresh lock id.

#include <string>

namespace adapters {

/// This host's name (gethostname), or "unknown-host".
std::string host_name();

/// A new lock id: 16 hex digits, short enough to type, and no two passes
/// share one.
std::string new_lock_id();

}  // namespace adapters
