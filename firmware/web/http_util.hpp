// Building API responses: JSON bodies, the error shape of SPEC section 2, cookies.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include "platform/http_server.hpp"

namespace tracklight::firmware {

using platform::HttpRequest;
using platform::HttpResponse;

HttpResponse json_response(int status, const nlohmann::json& body);
HttpResponse error_response(int status, const std::string& code, const std::string& message,
                            const std::string& field = "");
// A failed AgentState::commit: the edit's own refusal (409 Conflict, 404), or a failed save
// (507 when the disk is full, else 500), saying that nothing changed.
HttpResponse commit_failed(const Status& st);
std::string cookie_value(const HttpRequest& req, const std::string& name);
constexpr const char* kSessionCookie = "tracklight_session";

}  // namespace tracklight::firmware
