// Export and import of connections between devices (SPEC section 7): which connections an
// export holds, and what an import changes. Pure functions over Config values; the command line
// and the API read, print and save around them through the ConfigStore.
//
// An import merges by default: the file's connections are added or updated, the others stay.
// With `replace` the stored set becomes exactly the file's. A connection the import adds or
// changes is saved as not-verified (never authorized): Connect checks it. A secret the file does
// not carry is kept from the stored connection only while the server (scheme, host, port; for
// the proxy password, the proxy's) is the same, as the API does (SPEC section 2); otherwise it
// is dropped and the plan names it, to be entered again. The admin password and the board key
// are never touched.
#pragma once
#include <string>
#include <vector>
#include "firmware/model/config.hpp"
#include "firmware/store/config_codec.hpp"

namespace tracklight::firmware {

// A secret the import leaves empty: "api_key", "proxy_password", "header X-Token".
struct SecretToEnter {
  std::string field;
  bool server_changed;  // a stored one was not carried over; else the file had none
};

struct ConnectionChange {
  std::string id;
  std::string kind;                 // "added", "changed", "removed", "unchanged"
  std::vector<std::string> fields;  // "changed": the fields that differ (names only)
  std::vector<SecretToEnter> enter;
};

struct ImportPlan {
  Config next;
  std::vector<ConnectionChange> connections;  // in the order of `next`, then the removed ones
  std::vector<std::string> agent_fields;      // agent settings that change
  std::vector<LineProblem> problems;          // non-empty: refuse, nothing may change
  bool changes_anything() const;
};

// `file` must have no problems.
ImportPlan plan_import(const Config& current, const DecodedTransfer& file, bool replace);
// What the plan does, one line per connection (notes indented under it), for the command line.
std::vector<std::string> describe_plan(const ImportPlan& plan);

// The configuration to export: the connections named in `ids` (all when empty), in stored
// order. NotFound names the first id that is not stored.
Result<Config> select_for_export(const Config& config, const std::vector<std::string>& ids);

}  // namespace tracklight::firmware
