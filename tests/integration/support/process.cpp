#include "process.h"

#include <gtest/gtest.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sys/prctl.h>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace tokenizer::testing {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::string make_temp_dir(const std::string& prefix) {
  std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return buf.data();
}

ChildProcess::ChildProcess(std::string binary, std::vector<std::string> args,
                           std::map<std::string, std::string> env)
    : binary_(std::move(binary)) {
  dir_ = make_temp_dir("tk-proc");
  const std::string out = dir_ + "/stdout";
  const std::string err = dir_ + "/stderr";
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    const int fo = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int fe = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int fi = open("/dev/null", O_RDONLY);
    dup2(fi, 0);
    dup2(fo, 1);
    dup2(fe, 2);
    // Die with the test runner, even if it crashes.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(binary_.c_str()));
    for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(binary_.c_str(), argv.data());
    _exit(127);
  }
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !exit_status_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  // Keep the output of a failed test for debugging; otherwise clean up.
  if (!::testing::Test::HasFailure()) {
    unlink((dir_ + "/stdout").c_str());
    unlink((dir_ + "/stderr").c_str());
    rmdir(dir_.c_str());
  }
}

namespace {

// The number right after `marker` in `text`, or 0.
int number_after(const std::string& text, const std::string& marker, std::size_t from = 0) {
  const auto at = text.find(marker, from);
  if (at == std::string::npos) return 0;
  std::size_t i = at + marker.size();
  while (i < text.size() && (text[i] == ' ' || text[i] == '"')) ++i;
  int n = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9' && n < 100000) {
    n = n * 10 + (text[i++] - '0');
  }
  return n <= 65535 ? n : 0;
}

}  // namespace

bool ChildProcess::wait_for_port(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string text = stdout_text() + stderr_text();
    // "listening on http(s)://HOST:PORT" (upstream-sim, fake agent) ...
    const auto at = text.find("listening on http");
    if (at != std::string::npos) {
      const auto scheme_end = text.find("://", at);
      const auto eol = text.find('\n', at);
      const auto colon = text.rfind(':', eol == std::string::npos ? text.size() : eol);
      if (scheme_end != std::string::npos && colon != std::string::npos && colon > scheme_end) {
        tls_ = text.compare(at + 13, 5, "https") == 0;
        port_ = number_after(text, ":", colon);
        if (port_ > 0) return true;
      }
    }
    // ... or the tokenizer's JSON log line {"message":"listening",...,"port":N}.
    const auto line = text.find("\"message\":\"listening\"");
    if (line != std::string::npos) {
      port_ = number_after(text, "\"port\":", line);
      if (port_ > 0) return true;
    }
    if (!running()) return false;
    // Polling a file the child writes: there is no event to wait on across processes.
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

std::string ChildProcess::base_url() const {
  return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
}

void ChildProcess::signal(int sig) {
  if (pid_ > 0 && !exit_status_) ::kill(pid_, sig);
}

std::optional<int> ChildProcess::wait_exit(std::chrono::milliseconds timeout) {
  if (exit_status_) return exit_status_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    const pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return exit_status_;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

bool ChildProcess::running() {
  if (exit_status_) return false;
  return !wait_exit(std::chrono::milliseconds(0)).has_value();
}

std::string ChildProcess::stdout_text() const { return read_file(dir_ + "/stdout"); }
std::string ChildProcess::stderr_text() const { return read_file(dir_ + "/stderr"); }

std::vector<std::string> ChildProcess::stdout_lines() const {
  std::vector<std::string> lines;
  std::istringstream in(stdout_text());
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

int ChildProcess::open_fds() const {
  const std::string path = "/proc/" + std::to_string(pid_) + "/fd";
  DIR* d = opendir(path.c_str());
  if (d == nullptr) return -1;
  int n = 0;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(d);
  return n;
}

}  // namespace tokenizer::testing
