#pragma once
// The rooms as people meet them in a real Matrix client: runs
// tests/client/client_view.py (matrix-nio) against a homeserver.

#include <map>
#include <string>

#include "tests/support/process.h"

namespace testing_support {

/// The Python that has Debian's packages (python3-matrix-nio, the Prometheus
/// client): MXCTL_REFERENCE_PYTHON, else /usr/bin/python3, which a pyenv or
/// venv python3 earlier on PATH would not be.
std::string reference_python();

/// Checks every active person of `desired_json` (`mxctl desired -o json`)
/// through matrix-nio on `base_url`, logging in as each with `admin_token`
/// (which is written to a file in `scratch_dir`, never put on a command
/// line). Exit code 0: no problem; 1: problems, one per line of `out`;
/// 2: it could not run.
ProcessResult run_client_view(const std::string& base_url, const std::string& admin_token,
                              const std::string& desired_json, const std::string& bot,
                              const std::string& scratch_dir);

/// The counts of the summary line ("client view: openings=4 people=19
/// refused_kicks_at_25=6 ..."), by name; empty when there is no summary.
std::map<std::string, int> client_view_counts(const std::string& out);

/// CHECKs the client view of the example instance: it ran without a
/// problem for its nineteen people, saw both DMs' four invites and openings,
/// a rename refused at level 0, a kick refused at 25 and some hierarchy.
void check_example_client_view(const ProcessResult& view);

}  // namespace testing_support
