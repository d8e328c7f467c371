#include <cstdio>

#include "controller/version.h"

int main() {
  std::printf("mxctl %s\n", controller::version());
  return 0;
}
