#include "firmware/report.hpp"

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

Report test_connection(const Connection& conn, platform::Clock& clock) {
  const int64_t start = clock.monotonic_ms();
  Report r;
  r.checks.push_back(field_check(validate_connection(conn)));
  if (r.checks.back().result == "fail") {
    r.status = "invalid";
  } else {
    Check net;
    net.id = "network";
    net.result = "skip";
    net.message = "This version checks the settings' form only; it does not yet contact the server";
    net.hint = "Connect saves the connection as not-verified.";
    r.checks.push_back(net);
    r.ok = true;
    r.status = "not-verified";
  }
  r.checks[0].ms = clock.monotonic_ms() - start;
  r.elapsed_ms = clock.monotonic_ms() - start;
  return r;
}

}  // namespace tracklight::firmware
