#include "child_process.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tokenizer::pistache_race {
namespace {

// The port right after `marker`'s first occurrence in `line`, if it is a plausible one.
std::optional<int> port_after_marker_in(const std::string& line, const std::string& marker) {
  const auto at = line.find(marker);
  if (at == std::string::npos) return std::nullopt;
  long port = 0;
  std::size_t i = at + marker.size();
  const std::size_t first_digit = i;
  while (i < line.size() && line[i] >= '0' && line[i] <= '9' && port <= 65535) {
    port = port * 10 + (line[i] - '0');
    ++i;
  }
  if (i == first_digit || port <= 0 || port > 65535) return std::nullopt;
  return static_cast<int>(port);
}

}  // namespace

Expected<std::unique_ptr<ChildProcess>> ChildProcess::start(const std::vector<std::string>& argv,
                                                            const std::string& port_marker) {
  if (argv.empty()) return Error{"no_command", "no server command given"};
  if (port_marker.empty()) return Error{"bad_marker", "empty port marker"};
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return Error{"pipe", std::strerror(errno)};

  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  const pid_t pid = fork();
  if (pid < 0) {
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    return Error{"fork", std::strerror(errno)};
  }
  if (pid == 0) {
    // Child: own process group, stdout to the pipe, everything else inherited.
    setpgid(0, 0);
    dup2(pipe_fds[1], STDOUT_FILENO);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(pipe_fds[1]);
  return std::unique_ptr<ChildProcess>(new ChildProcess(pid, pipe_fds[0], port_marker));
}

ChildProcess::ChildProcess(pid_t pid, int stdout_fd, std::string port_marker)
    : pid_(pid), stdout_fd_(stdout_fd), port_marker_(std::move(port_marker)) {
  reader_ = std::thread([this] { drain_stdout(); });
}

ChildProcess::~ChildProcess() {
  stop();
  // Anything the server started in its process group would keep the pipe open.
  kill(-pid_, SIGKILL);
  if (reader_.joinable()) reader_.join();
  close(stdout_fd_);
}

std::optional<int> ChildProcess::port_after_marker(const std::string& line) const {
  return port_after_marker_in(line, port_marker_);
}

void ChildProcess::drain_stdout() {
  std::string line;
  char buffer[4096];
  for (;;) {
    const ssize_t n = read(stdout_fd_, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (ssize_t i = 0; i < n; ++i) {
      if (buffer[i] != '\n') {
        if (line.size() < 65536) line.push_back(buffer[i]);
        continue;
      }
      std::lock_guard<std::mutex> lock(mutex_);
      if (!port_) {
        port_ = port_after_marker(line);
        if (port_) port_seen_.notify_all();
      }
      line.clear();
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  stdout_closed_ = true;
  port_seen_.notify_all();
}

Expected<int> ChildProcess::wait_for_port(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  port_seen_.wait_for(lock, timeout, [this] { return port_.has_value() || stdout_closed_; });
  if (port_) return *port_;
  if (stdout_closed_) return Error{"no_port", "server closed stdout without announcing a port"};
  return Error{"no_port", "server announced no port in time"};
}

Expected<int> ChildProcess::open_fd_count() const {
  const std::string path = "/proc/" + std::to_string(pid_) + "/fd";
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) return Error{"proc", "cannot read " + path};
  int count = 0;
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count;
}

bool ChildProcess::reap(bool block) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (wait_status_) return true;
  int status = 0;
  const pid_t r = waitpid(pid_, &status, block ? 0 : WNOHANG);
  if (r == pid_) {
    wait_status_ = status;
    return true;
  }
  return false;
}

bool ChildProcess::running() { return !reap(false); }

std::string ChildProcess::exit_description() {
  if (!reap(false)) return "running";
  std::lock_guard<std::mutex> lock(mutex_);
  const int status = *wait_status_;
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    return "killed by signal " + std::to_string(sig) + " (" + strsignal(sig) + ")";
  }
  return "ended with wait status " + std::to_string(status);
}

void ChildProcess::stop(std::chrono::milliseconds grace) {
  if (!running()) return;
  kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!running()) return;
    usleep(10000);
  }
  kill(-pid_, SIGKILL);
  kill(pid_, SIGKILL);
  reap(true);
}

}  // namespace tokenizer::pistache_race
