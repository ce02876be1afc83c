// Catch2 runner for the integration tests.
#define CATCH_CONFIG_RUNNER
#include <csignal>

#include <catch2/catch.hpp>

int main(int argc, char** argv) {
  // A peer closing mid-write must show up as an error code, never kill the test process.
  std::signal(SIGPIPE, SIG_IGN);
  return Catch::Session().run(argc, argv);
}
