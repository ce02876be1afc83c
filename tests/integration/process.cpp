#include "tests/integration/process.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace ussdpay::test {
namespace {

std::string temp_dir() {
  const char* t = std::getenv("TMPDIR");
  return t != nullptr && *t != '\0' ? t : "/tmp";
}

std::string base_name(const std::string& p) {
  const auto slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

}  // namespace

child_process::child_process(std::string program, std::vector<std::string> args, env_vars env)
    : program_(std::move(program)) {
  // The capture file: one for stdout and stderr, so the log keeps the child's own order.
  std::string tmpl = temp_dir() + "/ussdpay-" + base_name(program_) + "-XXXXXX";
  const int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("mkostemp: " + std::string(std::strerror(errno)));
  log_path_ = tmpl;

  // argv and envp, owned by these vectors for the duration of the spawn.
  std::vector<std::string> argv_s;
  argv_s.push_back(program_);
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::set<std::string> overridden;
  for (const auto& [k, v] : env) overridden.insert(k);
  std::vector<std::string> envp_s;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const char* eq = std::strchr(*e, '=');
    const std::string name =
        eq != nullptr ? std::string(static_cast<const char*>(*e), eq) : std::string(*e);
    if (!overridden.contains(name)) envp_s.emplace_back(*e);
  }
  for (const auto& [k, v] : env) envp_s.push_back(k + "=" + v);
  std::vector<char*> argv, envp;
  for (auto& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);
  for (auto& s : envp_s) envp.push_back(s.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, fd, 1);
  posix_spawn_file_actions_adddup2(&fa, fd, 2);
  // Nothing else: a listening socket inherited by the daemon would outlive the simulator.
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // The child starts with default signal dispositions and an empty mask, whatever the test
  // process did with SIGPIPE or its threads' masks.
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  const bool search = program_.find('/') == std::string::npos;
  const int rc = search
                     ? ::posix_spawnp(&pid_, program_.c_str(), &fa, &attr, argv.data(), envp.data())
                     : ::posix_spawn(&pid_, program_.c_str(), &fa, &attr, argv.data(), envp.data());
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&fa);
  ::close(fd);
  if (rc != 0) {
    ::unlink(log_path_.c_str());
    pid_ = -1;
    throw std::runtime_error("posix_spawn " + program_ + ": " + std::strerror(rc));
  }
}

child_process::~child_process() {
  if (pid_ > 0 && !exit_code_) {
    ::kill(pid_, SIGKILL);
    // SIGKILL cannot be caught; still, never block forever on a child stuck in the kernel.
    wait_exit(std::chrono::seconds(5));
  }
  if (!log_path_.empty()) ::unlink(log_path_.c_str());
}

void child_process::reap(int status) {
  if (WIFEXITED(status))
    exit_code_ = WEXITSTATUS(status);
  else if (WIFSIGNALED(status))
    exit_code_ = 128 + WTERMSIG(status);
  else
    exit_code_ = 255;
}

bool child_process::running() {
  if (pid_ <= 0 || exit_code_) return false;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    reap(status);
    return false;
  }
  return r == 0;
}

bool child_process::signal(int sig) {
  if (!running()) return false;
  return ::kill(pid_, sig) == 0;
}

std::optional<int> child_process::wait_exit(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (!running()) return exit_code_;
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::string child_process::log() const {
  std::ifstream f(log_path_, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

bool child_process::wait_for_log(std::string_view needle, std::chrono::milliseconds timeout,
                                 std::size_t from) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const std::string text = log();
    if (text.size() > from && text.find(needle, from) != std::string::npos) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace ussdpay::test
