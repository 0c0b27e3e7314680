#include "firmware/tracker/endpoint.hpp"

#include "firmware/model/text.hpp"
#include "firmware/model/url.hpp"
#include "platform/crypto.hpp"

namespace tracklight::firmware {
namespace {

std::string auth_header(const Connection& c) {
  if (c.provider == "azure-devops") return platform::basic_auth_value("", c.token);
  if (c.auth == "pat") return "Bearer " + c.token;
  return platform::basic_auth_value(c.username, c.auth == "api-key" ? c.api_key : c.password);
}

}  // namespace

platform::HttpsTarget service_target(const Connection& c, const std::string& url, std::string* path) {
  platform::HttpsTarget t;
  Url u;
  parse_url(url, u);  // runs after field validation, so the URLs parse
  t.host = u.host;
  t.port = u.port;
  t.host_is_ip = u.host_is_ip;
  t.extra_ca_pem = c.ca_cert;
  if (path) {
    *path = u.path;
    while (!path->empty() && path->back() == '/') path->pop_back();
  }
  if (!c.proxy_url.empty()) {
    Url p;
    parse_url(c.proxy_url, p);
    t.proxy_host = p.host;
    t.proxy_port = p.port;
    t.proxy_username = c.proxy_username;
    t.proxy_password = c.proxy_password;
  }
  return t;
}

TrackerEndpoint tracker_endpoint(const Connection& c, const std::string& authorization, const std::string& api_url) {
  TrackerEndpoint e;
  e.target = service_target(c, api_url.empty() ? c.server_url : api_url, &e.base_path);
  e.headers = {{"Authorization", authorization.empty() ? auth_header(c) : authorization}, {"Accept", "application/json"}};
  if (c.provider == "azure-devops") e.headers.emplace_back("X-TFS-FedAuthRedirect", "Suppress");
  if (api_url.empty())
    for (const auto& h : c.headers) e.headers.emplace_back(h.name, h.value);
  return e;
}

std::string azure_collection_path(const Connection& c, std::string& why) {
  Url u;
  why = parse_url(c.server_url, u);
  if (!why.empty()) return "";
  std::string path = u.path;
  while (!path.empty() && path.back() == '/') path.pop_back();
  if (u.host == "dev.azure.com") return path.substr(0, path.find('/', 1));  // "/{org}": the organisation
  if (u.host.size() > 17 && u.host.compare(u.host.size() - 17, 17, ".visualstudio.com") == 0) return path;
  const std::string collection = c.collection.empty() ? "DefaultCollection" : c.collection;
  const std::string last = path.substr(path.rfind('/') + 1);
  if (iequals(last, collection)) return path;  // already in the URL: not doubled
  return path + "/" + path_segment(collection);
}

}  // namespace tracklight::firmware
