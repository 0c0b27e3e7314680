// Logging: one line per event on stderr, "<UTC time> <LEVEL> <component>: <message>".
// Never pass a secret here: messages name fields, hosts and codes, never values of credentials
// (URLs cannot carry user info: field validation refuses it).
// Thread-safe.
#pragma once
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>
#include "platform/clock.hpp"

namespace tracklight::platform {

enum class LogLevel { Debug = 0, Info = 1, Warn = 2, Error = 3 };
bool parse_log_level(const std::string& text, LogLevel& out);

class Logger {
 public:
  virtual ~Logger() = default;
  virtual void log(LogLevel level, const std::string& component, const std::string& message) = 0;
  void debug(const std::string& c, const std::string& m) { log(LogLevel::Debug, c, m); }
  void info(const std::string& c, const std::string& m) { log(LogLevel::Info, c, m); }
  void warn(const std::string& c, const std::string& m) { log(LogLevel::Warn, c, m); }
  void error(const std::string& c, const std::string& m) { log(LogLevel::Error, c, m); }
};

class StderrLogger : public Logger {
 public:
  explicit StderrLogger(LogLevel min) : min_(min) {}
  void log(LogLevel level, const std::string& component, const std::string& message) override;

 private:
  LogLevel min_;
};

// Keeps lines in memory: for tests.
class MemoryLogger : public Logger {
 public:
  void log(LogLevel level, const std::string& component, const std::string& message) override;
  std::vector<std::string> lines();

 private:
  std::mutex mu_;
  std::vector<std::string> lines_;
};

// Requests the agent refused (framing, Host, Origin, CSRF...): one line each, at most
// `per_minute` lines per rule in a minute, then one "suppressed" line with the count when that
// minute is over, so a flood cannot fill the disk. Rules are names from our code, never client
// input; callers pass the client address and what was asked (method and path, never header
// values or the query, which can carry the board key). Thread-safe.
class RefusalLog {
 public:
  RefusalLog(Logger& log, Clock& clock, int per_minute = 10) : log_(log), clock_(clock), per_minute_(per_minute) {}
  void refused(const std::string& rule, const std::string& client, const std::string& what);
  // Writes the "suppressed" lines of the minutes that are over.
  void flush();
  // When flush() next has something to write (monotonic ms), or -1 if it has nothing.
  int64_t next_flush_ms();

 private:
  struct Window {
    std::string rule;
    int64_t start = 0;
    int logged = 0;
    int suppressed = 0;
  };
  void flush_locked(int64_t now);
  Logger& log_;
  Clock& clock_;
  int per_minute_;
  std::mutex mu_;
  std::vector<Window> windows_;  // the few rules seen in the last minute
};

}  // namespace tracklight::platform
