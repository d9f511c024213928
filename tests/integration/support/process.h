// ChildProcess: starts one of the project's binaries for an integration test, captures its
// stdout and stderr into files, discovers the port it bound (it prints a line containing
// "listening on http(s)://HOST:PORT" or a JSON log line with a "port" field), and stops it.
// Every wait has a deadline; the destructor kills what is still running.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tokenizer::testing {

class ChildProcess {
 public:
  ChildProcess(std::string binary, std::vector<std::string> args,
               std::map<std::string, std::string> env = {});
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Waits until the process printed its port; false on exit or timeout.
  bool wait_for_port(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string base_url() const;

  void signal(int sig);
  // Waits for exit; returns the exit status (or 128+signal), nullopt on timeout.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  bool running();

  std::string stdout_text() const;
  std::string stderr_text() const;
  // Lines of stdout, for JSON log checks.
  std::vector<std::string> stdout_lines() const;
  // Number of open file descriptors (from /proc), or -1.
  int open_fds() const;

 private:
  std::string binary_;
  std::string dir_;
  pid_t pid_ = -1;
  int port_ = 0;
  bool tls_ = false;
  std::optional<int> exit_status_;
};

// A fresh temporary directory (removed by the caller, or left for debugging under /tmp).
std::string make_temp_dir(const std::string& prefix);

}  // namespace tokenizer::testing
