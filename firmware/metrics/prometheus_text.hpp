// Writing the Prometheus text exposition format, version 0.0.4 (what GET /metrics serves):
//
//   # HELP tracklight_http_requests_total HTTP requests the agent answered.
//   # TYPE tracklight_http_requests_total counter
//   tracklight_http_requests_total{route="api",code="200"} 12
//
// A family's HELP and TYPE lines come first and all its samples follow before the next family
// starts: the caller emits family by family. Label values are escaped here (backslash, double
// quote, newline), so any text is safe in a value; names are the caller's constants.
#pragma once
#include <initializer_list>
#include <string>

namespace tracklight::firmware {

struct MetricLabel {
  const char* name;
  std::string value;
};

class MetricsText {
 public:
  // type: "gauge" or "counter"; help: one line of plain text.
  void family(const char* name, const char* type, const char* help);
  // value: an integer or a number as the format writes it ("1", "-3", "0.5").
  void sample(const char* name, std::initializer_list<MetricLabel> labels, const std::string& value);
  std::string& text() { return out_; }

 private:
  std::string out_;
};

std::string escape_label_value(const std::string& value);

}  // namespace tracklight::firmware
