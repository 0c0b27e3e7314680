#include "firmware/web/http_util.hpp"

#include "firmware/model/connection_rules.hpp"
#include "firmware/model/text.hpp"

namespace tracklight::firmware {

HttpResponse json_response(int status, const nlohmann::json& body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  // Replacement instead of an exception for a string that is not UTF-8 (it came from a file).
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

HttpResponse error_response(int status, const std::string& code, const std::string& message,
                            const std::string& field) {
  nlohmann::json err = {{"code", code}, {"message", message}};
  if (!field.empty()) err["field"] = field;
  return json_response(status, {{"error", err}});
}

HttpResponse commit_failed(const Status& st) {
  const Error& e = st.error();
  if (e.code == ErrorCode::Conflict) return error_response(409, "conflict", e.detail);
  if (e.code == ErrorCode::NotFound && e.op.empty()) return error_response(404, "not_found", e.detail);
  bool full = e.code == ErrorCode::NoSpace;
  return error_response(full ? 507 : 500, "save_failed",
                        "could not save the configuration (" + e.message() + "); the previous configuration is unchanged");
}

std::string cookie_value(const HttpRequest& req, const std::string& name) {
  for (const auto& h : req.headers) {
    if (!iequals(h.first, "cookie")) continue;
    const std::string& v = h.second;
    size_t pos = 0;
    while (pos < v.size()) {
      size_t end = v.find(';', pos);
      if (end == std::string::npos) end = v.size();
      std::string part = v.substr(pos, end - pos);
      size_t b = part.find_first_not_of(' ');
      if (b != std::string::npos && part.compare(b, name.size() + 1, name + "=") == 0)
        return part.substr(b + name.size() + 1);
      pos = end + 1;
    }
  }
  return "";
}

}  // namespace tracklight::firmware
