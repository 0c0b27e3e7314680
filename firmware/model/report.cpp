#include "firmware/model/report.hpp"

namespace tracklight::firmware {

nlohmann::json report_to_json(const Report& r) {
  nlohmann::json checks = nlohmann::json::array();
  for (const auto& c : r.checks) {
    nlohmann::json j = {{"id", c.id}, {"result", c.result}, {"message", c.message}, {"hint", c.hint}, {"ms", c.ms}};
    if (!c.errors.empty()) {
      j["errors"] = nlohmann::json::array();
      for (const auto& e : c.errors) j["errors"].push_back({{"field", e.field}, {"message", e.message}});
    }
    checks.push_back(std::move(j));
  }
  return {{"ok", r.ok}, {"status", r.status}, {"checks", checks},
          {"server", r.server}, {"user", r.user}, {"elapsed_ms", r.elapsed_ms}};
}

Check field_check(const std::vector<FieldError>& errors) {
  Check c;
  c.id = "fields";
  if (errors.empty()) {
    c.result = "pass";
    c.message = "All fields are filled in correctly";
    return c;
  }
  c.result = "fail";
  c.message = std::to_string(errors.size()) + (errors.size() == 1 ? " field needs" : " fields need") +
              " attention: " + errors[0].field + " " + errors[0].message;
  c.hint = "Correct the fields marked in the form, then try again.";
  c.errors = errors;
  return c;
}

}  // namespace tracklight::firmware
