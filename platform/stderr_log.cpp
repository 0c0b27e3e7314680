#include "platform/log.hpp"

#include <ctime>
#include <unistd.h>

namespace tracklight::platform {
namespace {

const char* level_name(LogLevel l) {
  switch (l) {
    case LogLevel::Debug: return "DEBUG";
    case LogLevel::Info: return "INFO";
    case LogLevel::Warn: return "WARN";
    case LogLevel::Error: return "ERROR";
  }
  return "?";
}

// One event is one line: control characters from hostile input must not forge extra lines.
std::string one_line(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) out += (c < 0x20 || c == 0x7f) ? '?' : static_cast<char>(c);
  return out;
}

std::string format_line(LogLevel level, const std::string& component, const std::string& msg) {
  char ts[32];
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(ts) + " " + level_name(level) + " " + component + ": " + one_line(msg) + "\n";
}

}  // namespace

bool parse_log_level(const std::string& text, LogLevel& out) {
  static const struct { const char* name; LogLevel level; } kLevels[] = {
      {"debug", LogLevel::Debug}, {"info", LogLevel::Info},
      {"warn", LogLevel::Warn}, {"error", LogLevel::Error}};
  for (const auto& l : kLevels) {
    if (text == l.name) {
      out = l.level;
      return true;
    }
  }
  return false;
}

void StderrLogger::log(LogLevel level, const std::string& component, const std::string& message) {
  if (level < min_) return;
  std::string line = format_line(level, component, message);
  // A single write keeps lines from several threads whole.
  ssize_t rc = ::write(STDERR_FILENO, line.data(), line.size());
  (void)rc;
}

void MemoryLogger::log(LogLevel level, const std::string& component, const std::string& message) {
  std::lock_guard<std::mutex> lock(mu_);
  lines_.push_back(std::string(level_name(level)) + " " + component + ": " + one_line(message));
}

std::vector<std::string> MemoryLogger::lines() {
  std::lock_guard<std::mutex> lock(mu_);
  return lines_;
}

}  // namespace tracklight::platform
