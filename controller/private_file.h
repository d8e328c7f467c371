#pragma once
// Files that hold secrets (a provisioning bundle, an appservice
// registration): readable by their owner only, whatever they were before.

#include <string>

namespace controller {

/// Writes `text` to `path` (created, or truncated) with mode 600, not
/// following a symbolic link; an error message, or empty.
std::string write_private(const std::string& path, const std::string& text);

}  // namespace controller
