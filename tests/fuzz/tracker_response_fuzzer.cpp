// The Jira and Azure DevOps checks against hostile answers: every GET of a Test is answered from
// the input (status, content type, a few headers, body), so each JSON decoder and header rule
// (X-Seraph-LoginReason, CAPTCHA, Location, Retry-After, sign-in pages) sees arbitrary data.
// With an Entra sign-in (service principal, managed identity with Azure Arc's challenge) the
// token endpoint's answers come from the input too, so the token decoder and the challenge rules
// see them; with a device code sign-in, the refresh grant's answers, and (kind bit 128) the
// device code offer and a poll are decoded directly too. Jira OAuth 2.0 (Cloud through the API
// gateway, or Data Center) renews through the refresh grant, and with kind bit 128 its server
// kind, code exchange, Atlassian's site list and a landing address are decoded directly. A report must always come back (no exception escapes), with a known status, and carry a secret
// only when the server itself sent it (the report quotes names the server gives, like "Signed in
// as ..."). The seeds in corpus/tracker_response (tests/fuzz/make_seeds.py) are whole Tests of
// valid 200 answers, so mutations start inside the decoders rather than at the status rules.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "firmware/checks/tester.hpp"
#include "firmware/signin/device_code.hpp"
#include "firmware/model/url.hpp"
#include "firmware/signin/jira_oauth2.hpp"
#include "firmware/signin/signin.hpp"
#include "tests/fuzz/fuzz_reader.hpp"
#include "tests/support/fakes.hpp"

using namespace tracklight;

namespace {

const char* kTypes[] = {"application/json; charset=utf-8", "text/html", "application/json", ""};
const char* kHeaders[] = {"X-Seraph-LoginReason", "X-Authentication-Denied-Reason", "Location", "Retry-After",
                          "Content-Type", "x-ms-continuationtoken", "WWW-Authenticate"};

[[noreturn]] void escaped(const char* what) {
  std::fprintf(stderr, "an exception escaped run_test: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  test::FuzzReader in{data, size};
  test::FakeClock clock;
  test::FakeHttps https;
  std::string served;  // everything the fake server said
  https.respond = [&](const std::string&) {
    platform::HttpsResponse r;
    r.status = static_cast<int>(100 + in.u16() % 500);
    const char* type = kTypes[in.byte() % 4];
    if (*type) r.headers.emplace_back("Content-Type", type);
    for (int h = in.byte() % 3; h > 0; --h) {
      const char* name = kHeaders[in.byte() % 7];
      r.headers.emplace_back(name, in.take(in.byte() % 64));
    }
    r.body = in.take(in.length());
    for (const auto& h : r.headers) served += h.second + "\n";
    served += r.body + "\n";
    return r;
  };
  firmware::Connection c;
  c.id = "x";
  c.name = "x";
  const uint8_t kind = in.byte();
  if (kind % 2) {
    c.provider = "jira";
    c.server_url = "https://jira.example/jira";
    c.auth = kind & 8 ? "oauth2" : kind & 2 ? "pat" : "api-key";
    c.username = "mia@example.com";
    c.api_key = c.token = "CANARY-SECRET";
    if (kind & 8) {
      c.client_id = "atl-client";
      c.client_secret = c.refresh_token = "CANARY-SECRET";
      c.redirect_uri = "https://kiosk.local/oauth/callback";
      c.cloud_id = kind & 16 ? "1324a887-45db-1bf4-1e99-ef0ff456d421" : "";
    }
    c.token_expires = kind & 4 ? "2026-12-01" : "";
  } else {
    c.provider = "azure-devops";
    c.server_url = kind & 2 ? "https://dev.azure.com/org" : "https://tfs.example/tfs";
    c.auth = (kind & 48) == 48 ? "device-code" : kind & 16 ? "service-principal" : kind & 32 ? "managed-identity" : "pat";
    c.token = c.client_secret = c.refresh_token = "CANARY-SECRET";
    c.signed_in_as = "mia@fabrikam.example";
    c.tenant_id = "contoso.onmicrosoft.com";
    c.client_id = kind & 16 ? "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0" : "";
    c.project = kind & 4 ? "Fiber" : "";
    c.use_for_tfvc = kind & 8;
  }
  https.respond_post = [&](const std::string& path, const std::string&) { return https.respond(path); };
  test::MemoryFs fs;
  fs.files["/var/opt/azcmagent/tokens/a.key"] = "CANARY-SECRET";
  firmware::SigninContext signin;
  signin.fs = &fs;
  signin.managed_identity.arc_installed = kind & 64;
  firmware::TrackerEnv env{clock, https, 20000, nullptr, &signin};
  firmware::Report r;
  std::string said;  // what the device code's decoders would show the person
  try {  // an invariant of its own: a hostile answer must never surface as an exception
    if (kind & 128 && c.auth == "device-code") {
      const firmware::DeviceCodeOffer o = firmware::entra_device_code(c, env, 20000);
      said = o.user_code + o.verification_uri + o.message + o.failure.message + o.failure.hint;
      if (o.ok && (o.device_code.empty() || o.verification_uri.compare(0, 8, "https://") != 0)) __builtin_trap();
      const firmware::DevicePoll p = firmware::entra_device_poll(c, env, 20000, "CANARY-SECRET");
      said += p.account + p.outcome.message + p.outcome.hint;
      said += firmware::id_token_account(in.take(in.length()));
    }
    if (kind & 128 && c.auth == "oauth2") {
      const firmware::JiraKind k = firmware::jira_kind(c, env, 20000);
      said = k.failure.message + k.failure.hint;
      const firmware::CodeGrant g = firmware::jira_exchange_code(c, env, 20000, kind & 16, "CANARY-SECRET", "CANARY-SECRET");
      said += g.outcome.message + g.outcome.hint;
      for (const auto& s : g.sites) {
        if (s.id.empty() || s.url.compare(0, 8, "https://") != 0) __builtin_trap();
        said += s.name + s.url + s.id;
      }
      if (g.outcome.ok && g.outcome.refresh_token.empty()) __builtin_trap();  // refused without one
      firmware::TokenFetch why;
      bool refused = false;
      const std::string landed = in.take(in.length());
      const std::string code = firmware::landed_code(landed, c.redirect_uri, "0123456789abcdef", why, refused);
      if ((!code.empty() || refused) && firmware::query_value(landed, "state") != "0123456789abcdef") __builtin_trap();
      said += why.message + why.hint;
    }
    r = firmware::run_test(c, env);
  } catch (const std::exception& e) {
    escaped(e.what());
  } catch (...) {
    escaped("not a std::exception");
  }
  const std::string out = firmware::report_to_json(r).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if ((out + said).find("CANARY-SECRET") != std::string::npos && served.find("CANARY-SECRET") == std::string::npos)
    __builtin_trap();
  if (r.status != "authorized" && r.status != "not-authorized" && r.status != "interrupted" && r.status != "invalid")
    __builtin_trap();
  if (r.ok != (r.status == "authorized")) __builtin_trap();
  // run_test turns an exception into an "internal" check: for the fuzzer that is an escape.
  for (const auto& ch : r.checks)
    if (ch.id == "internal") escaped(ch.message.c_str());
  return 0;
}
