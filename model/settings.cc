#include "model/settings.h"

namespace model {

const char* to_string(ProvisioningMode mode) {
  switch (mode) {
    case ProvisioningMode::synapse_admin: return "synapse-admin";
    case ProvisioningMode::appservice: return "appservice";
  }
  return "unknown";
}

}  // namespace model
