// Field validation for a connection (the first check of a Test, SPEC section 3). Pure: it looks
// at the values only, and names the field and the fix in each error.
#pragma once
#include <cstdint>
#include <string>
#include <vector>
#include "firmware/model/connection.hpp"
#include "firmware/model/url.hpp"

namespace tracklight::firmware {

struct FieldError {
  std::string field;    // "server_url", "headers[1].name", "board.jql"
  std::string message;  // what is wrong and what to do; never contains a secret value
};

std::vector<FieldError> validate_connection(const Connection& c);

// Auth methods per provider, and whether this build can sign in with them.
bool auth_known(const std::string& provider, const std::string& auth);
bool auth_available(const std::string& provider, const std::string& auth);
// Which secret field an auth method needs ("" when none).
const char* required_secret(const std::string& provider, const std::string& auth);
// The sign-in secret its auth method needs is empty (an import could not carry it).
bool lacks_sign_in_secret(const Connection& c);
// The method signs in interactively and keeps a refresh token (device code, Jira OAuth 2.0).
bool keeps_refresh_token(const Connection& c);

// Whether the server's stored secrets (and header values) may go with an edited connection: the
// same scheme, host and port, the same sign-in service (Entra authority host), and no CA
// certificate added or replaced. A new CA could vouch for another machine under the same name;
// removing one only narrows whom the agent trusts.
bool server_secrets_may_follow(const Connection& edited, const Connection& stored);

bool valid_date(const std::string& yyyy_mm_dd);
// Days from 1970-01-01 to a date that passed valid_date (proleptic Gregorian).
int64_t date_days(const std::string& yyyy_mm_dd);

}  // namespace tracklight::firmware
