// The Test report (SPEC section 3): checks in order, each pass/warn/fail/skip with a one-line
// message and, on failure, the fix.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>
#include "firmware/model/connection.hpp"
#include "firmware/model/connection_rules.hpp"
#include "platform/clock.hpp"

namespace tracklight::firmware {

struct Check {
  std::string id;
  std::string result;  // pass | warn | fail | skip
  std::string message;
  std::string hint;
  int64_t ms = 0;
  std::vector<FieldError> errors;  // the "fields" check names each bad field
};

struct Report {
  bool ok = false;
  std::string status;  // authorized | not-authorized | interrupted | invalid | not-verified
  std::vector<Check> checks;
  nlohmann::json server = nlohmann::json::object();
  nlohmann::json user = nlohmann::json::object();
  int64_t elapsed_ms = 0;
  std::string detected_project;  // Azure DevOps: the one project found when none was named
};

nlohmann::json report_to_json(const Report& r);
Check field_check(const std::vector<FieldError>& errors);

}  // namespace tracklight::firmware
