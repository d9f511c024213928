// ChildProcess: a server started by a test, watched through /proc, stopped by PID.
//
// `start(argv)` forks and execs argv[0] (searched on PATH) with stdout piped back; a reader
// thread drains that pipe for the whole life of the child (so a chatty server never blocks
// on a full pipe) and remembers the first port announced on it: the digits right after the
// first occurrence of `port_marker` in a line (e.g. "127.0.0.1:"). stderr is inherited. The child is
// put in its own process group and stopped with SIGTERM, then SIGKILL after a grace
// period, by stop() or the destructor: nothing a test starts outlives it.
//
// Thread-safety: one owner thread calls the methods; open_fd_count() and running() may be
// called from any thread. Ownership: owns the child and the pipe.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/expected.h"

namespace tokenizer::pistache_race {

class ChildProcess {
 public:
  static Expected<std::unique_ptr<ChildProcess>> start(const std::vector<std::string>& argv,
                                                       const std::string& port_marker);
  ~ChildProcess();

  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }

  // The port the child announced on stdout, waiting up to `timeout` for it.
  Expected<int> wait_for_port(std::chrono::milliseconds timeout);

  // Entries of /proc/<pid>/fd, or an error once the child is gone.
  Expected<int> open_fd_count() const;

  // True while the child has not exited (reaps it when it has).
  bool running();

  // How the child ended ("exited with status 0", "killed by signal 11 (Segmentation
  // fault)"), or "running".
  std::string exit_description();

  // SIGTERM, wait up to `grace`, then SIGKILL; reaps the child. Idempotent.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));

 private:
  ChildProcess(pid_t pid, int stdout_fd, std::string port_marker);
  void drain_stdout();
  std::optional<int> port_after_marker(const std::string& line) const;
  bool reap(bool block);

  const pid_t pid_;
  const int stdout_fd_;
  const std::string port_marker_;
  std::thread reader_;

  std::mutex mutex_;
  std::condition_variable port_seen_;
  std::optional<int> port_;
  bool stdout_closed_ = false;
  std::optional<int> wait_status_;
};

}  // namespace tokenizer::pistache_race
