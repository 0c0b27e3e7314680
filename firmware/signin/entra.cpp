#include "firmware/signin/entra.hpp"

#include "firmware/model/url.hpp"
#include "firmware/signin/signin.hpp"
#include "firmware/tracker/endpoint.hpp"

namespace tracklight::firmware {
namespace {

struct Known {
  int64_t code;
  const char* message;
  const char* hint;
};

// The AADSTS codes a person can act on (learn.microsoft.com/entra/identity-platform/reference-error-codes).
const Known kKnown[] = {
    {7000215, "Microsoft Entra ID refused the client secret",
     "Copy the secret's Value (not its Secret ID) from the app registration > Certificates & secrets, or create a new secret there."},
    {7000222, "The client secret has expired", "Create a new client secret in the app registration > Certificates & secrets."},
    {700016, "The application (Client Id) was not found in the tenant",
     "Check the Client Id (Application (client) ID on the app registration's Overview page) and the Tenant Id: the app must be registered in that tenant."},
    {90002, "The tenant was not found",
     "Check the Tenant Id (Directory (tenant) ID on the app registration's Overview page), and the Authority host for a national cloud."},
    {900023, "The Tenant Id is not valid", "Use the Directory (tenant) ID GUID from the app registration's Overview page."},
    {50076, "Microsoft Entra ID requires multi-factor authentication for this sign-in", ""},
    {50079, "Microsoft Entra ID requires the account to register for multi-factor authentication", ""},
    {7000218, "The app registration does not allow public client flows",
     "In the app registration > Authentication, set \"Allow public client flows\" to Yes, then sign in again."},
    {700024, "Microsoft Entra ID refused the signed assertion's time",
     "Check this device's date and time (timedatectl set-ntp true); the assertion is valid for a few minutes only."},
    {700027, "Microsoft Entra ID does not know the certificate that signed the assertion",
     "Upload the certificate shown here to the app registration > Certificates & secrets > Certificates."},
    {70002, "The app registration cannot sign in this way", "Check that the Client Id is the app registration made for tracklight."},
    {53003, "A Conditional Access policy blocked the sign-in", "Ask your Entra administrator to allow this sign-in for the app."},
};

std::string first_line(const std::string& s) {
  const size_t end = s.find_first_of("\r\n");
  return end == std::string::npos ? s : s.substr(0, end);
}

}  // namespace

std::string entra_endpoint_base(const Connection& c) {
  std::string host = c.authority_host.empty() ? kDefaultAuthorityHost : c.authority_host;
  while (!host.empty() && host.back() == '/') host.pop_back();
  return host + "/" + path_segment(c.tenant_id) + "/oauth2/v2.0/";
}


TokenFetch entra_failure(const Connection& c, const TokenAnswer& a, int http_status) {
  if (!a.unreadable.empty() || http_status >= 500 || http_status == 429 || a.error == "temporarily_unavailable")
    return TokenFetch::failed(
        "interrupted",
        "Microsoft Entra ID answered HTTP " + std::to_string(http_status) + (a.unreadable.empty() ? "" : " (" + a.unreadable + ")"),
        "The sign-in service had a problem, or something else answered: check the Authority host. This is retried.");
  const std::string code = a.error_code ? " (AADSTS" + std::to_string(a.error_code) + ")" : "";
  for (const auto& k : kKnown) {
    if (k.code != a.error_code) continue;
    std::string hint = k.hint;
    if (k.code == 50076 || k.code == 50079)
      hint = c.auth == "service-principal"
                 ? "A service principal cannot answer an MFA prompt: ask your Entra administrator to exclude this app from the Conditional Access policy that requires MFA, or use a managed identity."
                 : "Sign in again with the device code and complete the MFA prompt.";
    return TokenFetch::failed("not-authorized", k.message + code, hint);
  }
  return TokenFetch::failed(
      "not-authorized",
      "Microsoft Entra ID refused the sign-in: " + a.error + (a.description.empty() ? "" : " - " + first_line(a.description)),
      "Check the Tenant Id, Client Id and the credential in the app registration.");
}

EntraReply ask_entra(const Connection& c, TrackerEnv& env, int64_t deadline_ms, const std::string& url,
                     const std::string& form) {
  return ask_token_service(c, env, deadline_ms, url, form, "application/x-www-form-urlencoded", "Microsoft Entra ID");
}

TokenFetch post_form(const Connection& c, TrackerEnv& env, int64_t deadline_ms, const std::string& url,
                     const std::string& form) {
  EntraReply r = ask_entra(c, env, deadline_ms, url, form);
  if (!r.reached) return r.failure;
  if (!r.answer.ok()) return entra_failure(c, r.answer, r.response.status);
  TokenFetch f = TokenFetch::token_of(r.answer.access_token, r.answer.expires_in_s);
  f.refresh_token = r.answer.refresh_token;
  return f;
}

TokenFetch entra_client_credentials(const Connection& c, TrackerEnv& env, int64_t deadline_ms) {
  return post_form(c, env, deadline_ms, entra_endpoint_base(c) + "token",
                   form_body({{"grant_type", "client_credentials"},
                              {"client_id", c.client_id},
                              {"scope", kAzureDevOpsScope},
                              {"client_secret", c.client_secret}}));
}

}  // namespace tracklight::firmware
