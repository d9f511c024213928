// tokenizer-passwd USER: reads a password on stdin (one line; the terminal does not echo
// it) and prints a `USER:pbkdf2-sha256$…` line for --basic-auth-file.
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>

#include "http/basic_auth.h"

int main(int argc, char** argv) {
  if (argc != 2 || std::string(argv[1]).find(':') != std::string::npos ||
      std::string(argv[1]).empty()) {
    std::fprintf(stderr, "usage: tokenizer-passwd USER   (password read from stdin)\n");
    return 2;
  }
  const bool tty = isatty(STDIN_FILENO) != 0;
  termios saved{};
  if (tty) {
    std::fprintf(stderr, "password for %s: ", argv[1]);
    tcgetattr(STDIN_FILENO, &saved);
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string password;
  std::getline(std::cin, password);
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    std::fprintf(stderr, "\n");
  }
  if (password.size() < 12) {
    std::fprintf(stderr, "tokenizer-passwd: use a password of at least 12 characters\n");
    return 2;
  }
  std::printf("%s:%s\n", argv[1], tokenizer::hash_password(password).c_str());
  return 0;
}
