// child_process: a program the integration tests run as a real child (the daemon, openssl).
//
// posix_spawn with extra environment variables, stdin from /dev/null and stdout + stderr
// captured in one temporary file; only fds 0-2 reach the child, so it never inherits a test's
// listening sockets. Every wait is bounded; the destructor SIGKILLs and reaps a child that is
// still running, so a failed test never leaves a daemon behind.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ussdpay::test {

using env_vars = std::vector<std::pair<std::string, std::string>>;

class child_process {
 public:
  /// Starts `program` (searched in PATH when it has no '/') with `args` (argv[1..]); `env` is
  /// added to (and overrides) the test's own environment. Throws std::runtime_error on failure.
  child_process(std::string program, std::vector<std::string> args, env_vars env = {});
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  pid_t pid() const { return pid_; }
  /// True until the child has been reaped (by wait_exit or running()).
  bool running();
  /// kill(pid, sig); false if the child is gone.
  bool signal(int sig);
  /// Polls waitpid until the child exits or `timeout` passes. The exit code, 128 + signal
  /// number when a signal ended it, or nullopt if it is still running.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  std::optional<int> exit_code() const { return exit_code_; }

  /// Everything the child wrote to stdout and stderr so far.
  std::string log() const;
  std::size_t log_size() const { return log().size(); }
  /// Polls the captured output until `needle` appears at or after byte `from`.
  bool wait_for_log(std::string_view needle, std::chrono::milliseconds timeout,
                    std::size_t from = 0) const;
  const std::string& log_path() const { return log_path_; }

 private:
  void reap(int status);

  std::string program_;
  std::string log_path_;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

}  // namespace ussdpay::test
