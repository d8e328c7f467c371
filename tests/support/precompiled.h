// The headers nearly every test file parses, precompiled once for all test
// executables (tests/CMakeLists.txt): parsing them was most of a test
// file's compile time. Third-party and standard headers only, so a test
// still names what it uses and builds without this.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <tl/expected.hpp>
