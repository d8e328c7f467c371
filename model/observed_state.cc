#include "model/observed_state.h"

namespace model {

const char* to_string(Membership membership) {
  switch (membership) {
    case Membership::invite: return "invite";
    case Membership::join: return "join";
    case Membership::leave: return "leave";
    case Membership::ban: return "ban";
    case Membership::knock: return "knock";
  }
  return "unknown";
}

}  // namespace model
