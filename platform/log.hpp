// Logging: one line per event on stderr, "<UTC time> <LEVEL> <component>: <message>".
// Never pass a secret here: messages name fields, hosts and codes, never values of credentials
// (URLs cannot carry user info: field validation refuses it).
// Thread-safe.
#pragma once
#include <mutex>
#include <string>
#include <vector>

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

}  // namespace tracklight::platform
