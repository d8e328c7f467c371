#pragma once

namespace controller {

/// mxctl's version, as printed by `mxctl --version` and recorded in run history.
const char* version();

}  // namespace controller
