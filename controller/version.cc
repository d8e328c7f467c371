#include "controller/version.h"

namespace controller {

const char* version() { return "0.1.0"; }

}  // namespace controller
