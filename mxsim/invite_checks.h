#pragma once
// What Synapse does before it invites, shared by /invite and the member
// state PUT (which its room member handler serves alike).

#include <string>

#include "mxsim/request.h"

namespace mxsim {

class Homeserver;

/// Asks the appservice owning an unknown `target` about it, then answers as
/// Synapse does when `target`'s server cannot be reached (throws 502 after
/// the federation timeout). Must be called without the state lock.
void check_before_invite(Homeserver& hs, const ApiRequest& request, const std::string& room_id,
                         const std::string& target);

}  // namespace mxsim
