#include "firmware/metrics/prometheus_text.hpp"

namespace tracklight::firmware {
namespace {

// HELP text escapes backslash and newline; a label value also the double quote.
std::string escaped(const std::string& text, bool quote) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (c == '"' && quote) out += "\\\"";
    else out += c;
  }
  return out;
}

}  // namespace

std::string escape_label_value(const std::string& value) { return escaped(value, true); }

void MetricsText::family(const char* name, const char* type, const char* help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  out_ += escaped(help, false);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void MetricsText::sample(const char* name, std::initializer_list<MetricLabel> labels, const std::string& value) {
  out_ += name;
  const char* sep = "{";
  for (const MetricLabel& l : labels) {
    out_ += sep;
    out_ += l.name;
    out_ += "=\"";
    out_ += escape_label_value(l.value);
    out_ += '"';
    sep = ",";
  }
  if (labels.size() > 0) out_ += '}';
  out_ += ' ';
  out_ += value;
  out_ += '\n';
}

}  // namespace tracklight::firmware
