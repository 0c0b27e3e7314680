#include "firmware/store/config_codec.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <functional>

#include "firmware/model/connection_rules.hpp"
#include "firmware/model/text.hpp"

namespace tracklight::firmware {
namespace {

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// from_chars into a fixed-width type: `long` is 32 bits on armhf, where a hand-rolled
// accumulator wrapped "4294967306" around to 10.
bool parse_int(const std::string& s, int64_t lo, int64_t hi, int& out) {
  int64_t v = 0;
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, v);
  if (s.empty() || ec != std::errc() || ptr != end || v < lo || v > hi) return false;
  out = static_cast<int>(v);
  return true;
}

bool missing_required_secret(const Connection& c, const FieldError& e) {
  return e.field == required_secret(c.provider, c.auth) && lacks_sign_in_secret(c);
}

// Parses one "[connection id]" or "key = value" body line into the config being built. In
// transfer mode (export files) it goes on after a problem to report the others too.
class Decoder {
 public:
  Decoder(const SecretBox* box, const ProvisioningKey* key, bool transfer) : box_(box), key_(key), transfer_(transfer) {}

  Result<DecodedConfig> run(const std::string& text);
  DecodedTransfer run_transfer(const std::string& text);

 private:
  bool lines(const std::string& text);
  bool line(const std::string& raw);
  void validate();
  bool section(const std::string& line);
  bool setting(const std::string& key, const std::string& value);
  bool agent_setting(const std::string& key, const std::string& value);
  bool connection_setting(Connection& c, const std::string& key, const std::string& value);
  bool board_setting(Connection& c, const std::string& key, const std::string& value);
  Result<std::string> open_secret(const std::string& context, const std::string& value) const;
  bool once(const std::string& key);
  bool fail(const std::string& why) {
    error_ = why;
    return false;
  }
  // Store mode stops at the first problem; transfer mode collects them. False: stop reading.
  bool problem(size_t line, const std::string& why) {
    problems_.push_back({line, why});
    return transfer_ && problems_.size() < kMaxTransferProblems;
  }
  size_t line_of(size_t conn, const std::string& field) const;

  const SecretBox* box_;
  const ProvisioningKey* key_;
  bool transfer_;
  DecodedConfig out_;
  size_t line_no_ = 0;
  bool have_version_ = false;
  enum class Where { Top, Agent, Connection, Skip } where_ = Where::Top;
  std::vector<std::string> seen_;  // keys already set in this section
  std::vector<size_t> section_lines_;
  std::vector<std::set<std::string>> given_;                     // secrets in the file, per connection
  std::vector<std::vector<std::pair<std::string, size_t>>> keys_;  // first line of each key, per connection
  std::vector<LineProblem> problems_;
  std::string error_;
};

Result<DecodedConfig> Decoder::run(const std::string& text) {
  if (lines(text)) validate();
  if (problems_.empty()) return std::move(out_);
  return Error{ErrorCode::ConfigInvalid, "line " + std::to_string(problems_[0].line), 0, problems_[0].message};
}

DecodedTransfer Decoder::run_transfer(const std::string& text) {
  if (lines(text) && problems_.empty()) validate();
  DecodedTransfer t;
  t.config = std::move(out_.config);
  t.warnings = std::move(out_.warnings);
  t.secrets_given = std::move(given_);
  t.section_lines = std::move(section_lines_);
  t.problems = std::move(problems_);
  return t;
}

// False when reading stopped early (a problem in store mode, or too many).
bool Decoder::lines(const std::string& text) {
  if (text.size() > kMaxConfigBytes) return problem(0, "the file is larger than 1 MiB"), false;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    ++line_no_;
    if (transfer_ && nl - pos > kMaxTransferLine) {
      if (!problem(line_no_, "the line is longer than 128 KiB")) return false;
      where_ = Where::Skip;
    } else if (!line(text.substr(pos, nl - pos)) && !problem(line_no_, error_)) {
      return false;
    }
    if (!have_version_ && !problems_.empty()) return false;  // nothing else can be read
    pos = nl + 1;
  }
  if (!have_version_) return problem(line_no_, "the file is empty or has no 'version = 1' line"), false;
  return true;
}

bool Decoder::line(const std::string& text) {
  std::string raw = text;
  if (!raw.empty() && raw.back() == '\r') raw.pop_back();
  if (raw.find('\0') != std::string::npos) return fail("contains a NUL byte");
  std::string line = trim(raw);
  if (line.empty() || line[0] == '#') return true;
  if (!have_version_) {
    if (line != "version = 1" && line != "version=1")
      return fail(line.rfind("version", 0) == 0 ? "unsupported format version (this agent reads version 1)"
                                                : "expected 'version = 1' as the first setting");
    have_version_ = true;
    return true;
  }
  if (line[0] == '[') return section(line);
  size_t eq = line.find('=');
  if (eq == std::string::npos) return fail("expected 'key = value' or a [section]");
  std::string value;
  std::string why;
  if (!decode_value(trim(line.substr(eq + 1)), value, why)) return fail(why);
  return setting(trim(line.substr(0, eq)), value);
}

// Every connection must pass the field rules, except that one saved as not-verified (or read
// from an export file) may lack its sign-in secret: an import that could not carry it.
void Decoder::validate() {
  for (size_t i = 0; i < out_.config.connections.size(); ++i) {
    const Connection& c = out_.config.connections[i];
    for (const auto& e : validate_connection(c)) {
      if ((transfer_ || c.saved_status == "not-verified") && missing_required_secret(c, e)) continue;
      if (!problem(transfer_ ? line_of(i, e.field) : section_lines_[i], "[connection " + c.id + "] " + e.field + ": " + e.message))
        return;
      if (!transfer_) return;
    }
  }
}

// The line where a field was set ("headers[1].name" -> the first header line), else the
// connection's section line.
size_t Decoder::line_of(size_t conn, const std::string& field) const {
  std::string key = field.substr(0, field.find('['));
  if (key == "headers") key = "header";
  if (key == "board.pipelines") key = "board.pipeline";
  for (const auto& k : keys_[conn])
    if (k.first == key) return k.second;
  return section_lines_[conn];
}

Result<std::string> Decoder::open_secret(const std::string& context, const std::string& value) const {
  if (!transfer_) return box_->open(context, value);
  if (looks_sealed_for(value)) {
    if (key_) return key_->open(context, value);
    const std::string fp = sealed_for_fingerprint(value);
    if (fp.size() != 16 || fp.find_first_not_of("0123456789abcdef") != std::string::npos)
      return Error{ErrorCode::CryptoFailed, "", 0, "is damaged (expected sealed-for:<16 hex digits>:<base64>)"};
    return Error{ErrorCode::CryptoFailed, "", 0,
                 "is sealed for another device (key " + fp +
                     "): this device has no provisioning key yet. Run `tracklight device-key --public` here and export "
                     "again with --for and its output"};
  }
  if (SecretBox::looks_sealed(value))
    return Error{ErrorCode::ConfigInvalid, "", 0,
                 "is sealed with the other device's own key (is this a copy of tracklight.conf?): make the file with "
                 "`tracklight export --with-secrets --for KEY`, KEY from `tracklight device-key --public` on this device"};
  return Error{ErrorCode::ConfigInvalid, "", 0,
               "must be sealed for this device (sealed-for:...), not written in clear; leave the line out to keep "
               "the stored one"};
}

bool Decoder::section(const std::string& line) {
  seen_.clear();
  where_ = Where::Skip;  // until this header is known to be good: its lines are not read
  if (line.back() != ']') return fail("a section header must end with ']'");
  std::string inner = trim(line.substr(1, line.size() - 2));
  if (inner == "agent") {
    where_ = Where::Agent;
    return true;
  }
  if (inner.rfind("connection ", 0) != 0) return fail("unknown section [" + inner + "]");
  std::string id = trim(inner.substr(11));
  if (!valid_connection_id(id))
    return fail("connection id '" + id + "' must be 1-32 of a-z, 0-9 and '-', starting with a letter or digit");
  if (out_.config.find(id)) return fail("connection '" + id + "' appears twice");
  if (out_.config.connections.size() >= kMaxConnections) return fail("more than 32 connections");
  Connection c;
  c.id = id;
  out_.config.connections.push_back(c);
  section_lines_.push_back(line_no_);
  given_.emplace_back();
  keys_.emplace_back();
  where_ = Where::Connection;
  return true;
}

bool Decoder::once(const std::string& key) {
  for (const auto& k : seen_)
    if (k == key) return fail("'" + key + "' is set twice in this section");
  seen_.push_back(key);
  return true;
}

bool Decoder::setting(const std::string& key, const std::string& value) {
  if (key.empty()) return fail("missing key before '='");
  switch (where_) {
    case Where::Top: return fail("setting '" + key + "' must be inside a [section]");
    case Where::Agent: return agent_setting(key, value);
    case Where::Connection: {
      auto& keys = keys_.back();
      if (std::find_if(keys.begin(), keys.end(), [&](const auto& k) { return k.first == key; }) == keys.end())
        keys.emplace_back(key, line_no_);
      return connection_setting(out_.config.connections.back(), key, value);
    }
    case Where::Skip: return true;
  }
  return false;
}

bool Decoder::agent_setting(const std::string& key, const std::string& value) {
  auto& a = out_.config.agent;
  if (transfer_ && (key == "admin_password" || key == "board_key"))
    return fail(key + " is not imported: an export never carries it (the admin password is set with `tracklight passwd` "
                      "or on the page, the board link on the page); remove the line");
  if (key == "admin_password") {
    if (!once(key)) return false;
    if (value.rfind("pbkdf2-sha256$", 0) != 0) return fail("admin_password must be a pbkdf2-sha256 hash");
    a.admin_password_hash = value;
    return true;
  }
  if (key == "board_key") {
    if (!once(key)) return false;
    if (value.size() != 7 + 64 || value.rfind("sha256:", 0) != 0 ||
        value.find_first_not_of("0123456789abcdef", 7) != std::string::npos)
      return fail("board_key must be sha256: followed by 64 lower-case hex digits (rotate it on the page)");
    a.board_key_hash = value;
    return true;
  }
  if (key == "allowed_host") {
    if (!valid_host_name(value)) return fail("allowed_host '" + value + "' is not a valid host name");
    a.allowed_hosts.push_back(value);
    return true;
  }
  a.unknown.emplace_back(key, value);
  out_.warnings.push_back("line " + std::to_string(line_no_) + ": unknown key '" + key + "' kept as is");
  return true;
}

bool Decoder::connection_setting(Connection& c, const std::string& key, const std::string& value) {
  if (key == "header") {
    size_t sp = value.find(' ');
    if (c.headers.size() >= kMaxHeaders) return fail("more than 16 headers");
    if (sp == std::string::npos) {
      if (!transfer_) return fail("header must be '<Name> sealed:...'");
      c.headers.push_back({value, ""});  // the value is not in the file
      return true;
    }
    const std::string context = c.id + "/header/" + lower(value.substr(0, sp));
    auto plain = open_secret(context, value.substr(sp + 1));
    if (!plain)
      return fail(transfer_ ? "[connection " + c.id + "] header " + value.substr(0, sp) + " " + plain.error().detail
                            : "header " + value.substr(0, sp) + ": " + plain.error().detail);
    c.headers.push_back({value.substr(0, sp), *plain});
    given_.back().insert("header/" + lower(value.substr(0, sp)));
    return true;
  }
  if (key.rfind("board.", 0) == 0) return board_setting(c, key.substr(6), value);
  if (!once(key)) return false;
  if (transfer_ && from_signin(key))
    return fail("[connection " + c.id + "] " + key + " is not imported: a sign-in belongs to the device it was made on (sign in on "
                "this device); remove the line");
  for (size_t i = 0; i < kStringFieldCount; ++i) {
    if (key != kStringFields[i].name) continue;
    if (value.size() > kStringFields[i].max_len)
      return fail(key + " is longer than " + std::to_string(kStringFields[i].max_len) + " characters");
    c.*kStringFields[i].member = value;
    return true;
  }
  for (size_t i = 0; i < kSecretFieldCount; ++i) {
    if (key != kSecretFields[i].name) continue;
    auto plain = open_secret(c.id + "/" + key, value);
    if (!plain)
      return fail(transfer_ ? "[connection " + c.id + "] " + key + " " + plain.error().detail : key + ": " + plain.error().detail);
    c.*kSecretFields[i].member = *plain;
    given_.back().insert(key);
    return true;
  }
  for (size_t i = 0; i < kIntFieldCount; ++i) {
    if (key != kIntFields[i].name) continue;
    const auto& f = kIntFields[i];
    if (!parse_int(value, f.min, f.max, c.*f.member))
      return fail(key + " must be a whole number from " + std::to_string(f.min) + " to " + std::to_string(f.max));
    return true;
  }
  for (size_t i = 0; i < kBoolFieldCount; ++i) {
    if (key != kBoolFields[i].name) continue;
    if (value != "true" && value != "false") return fail(key + " must be true or false");
    c.*kBoolFields[i].member = value == "true";
    return true;
  }
  if (key == "imported" && !transfer_) {
    if (value != "true" && value != "false") return fail("imported must be true or false");
    c.imported = value == "true";
    return true;
  }
  if ((key == "status" || key == "imported") && transfer_) {
    out_.warnings.push_back("line " + std::to_string(line_no_) + ": " + key + " is not imported (an imported connection is saved as not-verified); left out");
    return true;
  }
  if (key == "status") {
    if (value != "not-verified" && value != "authorized" && value != "not-authorized" && value != "interrupted")
      return fail("status '" + value + "' is not one of not-verified, authorized, not-authorized, interrupted");
    c.saved_status = value;
    return true;
  }
  c.unknown.emplace_back(key, value);
  out_.warnings.push_back("line " + std::to_string(line_no_) + ": unknown key '" + key + "' kept as is");
  return true;
}

bool Decoder::board_setting(Connection& c, const std::string& key, const std::string& value) {
  auto& b = c.board;
  if (key == "pipeline") {
    if (b.pipelines.size() >= kMaxPipelines) return fail("more than 50 board.pipeline lines");
    if (value.empty() || value.size() > kMaxPipelineNameLen) return fail("board.pipeline must be 1-256 characters");
    // Earlier agents saved a name listed twice; dropping the repeat keeps such a file
    // loading (validation refuses it now), and the board is the same.
    if (std::find(b.pipelines.begin(), b.pipelines.end(), value) != b.pipelines.end()) {
      out_.warnings.push_back("line " + std::to_string(line_no_) + ": board.pipeline '" + value + "' repeats an earlier line; left out");
      return true;
    }
    b.pipelines.push_back(value);
    return true;
  }
  if (!once("board." + key)) return false;
  if (key == "enabled") {
    if (value != "true" && value != "false") return fail("board.enabled must be true or false");
    b.enabled = value == "true";
  } else if (key == "interval_s") {
    if (!parse_int(value, 15, 86400, b.interval_s)) return fail("board.interval_s must be a whole number from 15 to 86400");
  } else if (key == "max_issues") {
    if (!parse_int(value, 1, 50, b.max_issues)) return fail("board.max_issues must be a whole number from 1 to 50");
  } else if (key == "branch") {
    if (value.size() > 256) return fail("board.branch is longer than 256 characters");
    b.branch = value;
  } else if (key == "jql") {
    if (value.size() > 2048) return fail("board.jql is longer than 2048 characters");
    b.jql = value;
  } else {
    c.unknown.emplace_back("board." + key, value);
    out_.warnings.push_back("line " + std::to_string(line_no_) + ": unknown key 'board." + key + "' kept as is");
  }
  return true;
}

// Writes the flat file. Store mode seals every secret with the device key (SecretBox); transfer
// mode (export files) leaves out what the receiving device must not get, and either leaves out
// the secrets or seals them for the receiving device.
class Encoder {
 public:
  Encoder(const SecretBox* box, const DevicePublicKey* to, bool transfer, platform::Entropy& entropy)
      : box_(box), to_(to), transfer_(transfer), entropy_(entropy) {}
  Result<std::string> run(const Config& config);

 private:
  void put(const std::string& key, const std::string& value) {
    out_ += key + " = " + encode_value(value) + "\n";
  }
  bool put_sealed(const std::string& key, const std::string& context, const std::string& plain,
                  const std::string& name_prefix = "") {
    if (transfer_ && !to_) {
      if (!name_prefix.empty()) out_ += key + " = " + name_prefix.substr(0, name_prefix.size() - 1) + "\n";
      return true;
    }
    auto sealed = to_ ? seal_for_device(*to_, context, plain, entropy_) : box_->seal(context, plain, entropy_);
    if (!sealed) {
      error_ = sealed.error();
      return false;
    }
    out_ += key + " = " + name_prefix + *sealed + "\n";
    return true;
  }
  bool connection(const Connection& c);
  void header_comment();

  const SecretBox* box_;
  const DevicePublicKey* to_;
  bool transfer_;
  platform::Entropy& entropy_;
  std::string out_;
  Error error_;
};

void Encoder::header_comment() {
  if (!transfer_) {
    out_ =
        "# tracklight configuration. Secrets are sealed with this device's key (device.key beside\n"
        "# this file); edit other values by hand if you must, then reload (SIGHUP).\n";
    return;
  }
  out_ = "# tracklight export: load it on a device with `tracklight import FILE` (add --dry-run to see\n";
  out_ += "# what would change first). Connections arrive not verified: Connect checks them.\n";
  out_ += to_ ? "# Secrets are sealed for the device with key " + to_->fingerprint() + " and open only there.\n"
              : "# It carries no secrets: a device keeps its own for the same server; enter the others.\n";
}

Result<std::string> Encoder::run(const Config& config) {
  header_comment();
  out_ += "version = 1\n\n[agent]\n";
  if (!transfer_ && !config.agent.admin_password_hash.empty()) put("admin_password", config.agent.admin_password_hash);
  if (!transfer_ && !config.agent.board_key_hash.empty()) put("board_key", config.agent.board_key_hash);
  for (const auto& h : config.agent.allowed_hosts) put("allowed_host", h);
  for (const auto& u : config.agent.unknown) put(u.first, u.second);
  for (const auto& c : config.connections)
    if (!connection(c)) return error_;
  return out_;
}

bool Encoder::connection(const Connection& c) {
  out_ += "\n[connection " + c.id + "]\n";
  // A person's sign-in stays on this device: each device signs in for itself (and a rotating
  // refresh token copied to many devices would be spent by the first of them).
  const auto here_only = [&](const char* name) { return transfer_ && from_signin(name); };
  for (size_t i = 0; i < kStringFieldCount; ++i)
    if (!(c.*kStringFields[i].member).empty() && !here_only(kStringFields[i].name)) put(kStringFields[i].name, c.*kStringFields[i].member);
  for (size_t i = 0; i < kBoolFieldCount; ++i) put(kBoolFields[i].name, c.*kBoolFields[i].member ? "true" : "false");
  for (size_t i = 0; i < kIntFieldCount; ++i) put(kIntFields[i].name, std::to_string(c.*kIntFields[i].member));
  if (!transfer_) put("status", c.saved_status);
  if (!transfer_ && c.imported) put("imported", "true");
  for (size_t i = 0; i < kSecretFieldCount; ++i) {
    const std::string& v = c.*kSecretFields[i].member;
    if (here_only(kSecretFields[i].name)) continue;
    if (!v.empty() && !put_sealed(kSecretFields[i].name, c.id + "/" + kSecretFields[i].name, v)) return false;
  }
  for (const auto& h : c.headers)
    if (!put_sealed("header", c.id + "/header/" + lower(h.name), h.value, h.name + " ")) return false;
  put("board.enabled", c.board.enabled ? "true" : "false");
  put("board.interval_s", std::to_string(c.board.interval_s));
  put("board.max_issues", std::to_string(c.board.max_issues));
  if (!c.board.branch.empty()) put("board.branch", c.board.branch);
  if (!c.board.jql.empty()) put("board.jql", c.board.jql);
  for (const auto& p : c.board.pipelines) put("board.pipeline", p);
  for (const auto& u : c.unknown) put(u.first, u.second);
  return true;
}

}  // namespace

std::string encode_value(const std::string& v) {
  bool bare = !v.empty() && v.front() != ' ' && v.front() != '\t' && v.front() != '"' &&
              v.back() != ' ' && v.back() != '\t';
  for (unsigned char ch : v) bare = bare && ch >= 0x20 && ch != 0x7f;
  if (bare) return v;
  std::string out = "\"";
  for (unsigned char ch : v) {
    switch (ch) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (ch < 0x20 || ch == 0x7f) {
          char buf[5];
          std::snprintf(buf, sizeof buf, "\\x%02x", ch);
          out += buf;
        } else {
          out += static_cast<char>(ch);
        }
    }
  }
  return out + "\"";
}

bool decode_value(const std::string& raw, std::string& out, std::string& why) {
  out.clear();
  if (raw.empty() || raw[0] != '"') {
    out = raw;
    return true;
  }
  for (size_t i = 1; i < raw.size(); ++i) {
    char ch = raw[i];
    if (ch == '"') {
      if (i + 1 != raw.size()) {
        why = "unexpected text after the closing quote";
        return false;
      }
      return true;
    }
    if (ch != '\\') {
      out += ch;
      continue;
    }
    if (++i == raw.size()) break;
    switch (raw[i]) {
      case '\\': out += '\\'; break;
      case '"': out += '"'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'x': {
        int hi = i + 2 < raw.size() ? hex_digit(raw[i + 1]) : -1;
        int lo = i + 2 < raw.size() ? hex_digit(raw[i + 2]) : -1;
        if (hi < 0 || lo < 0) {
          why = "\\x must be followed by two hex digits";
          return false;
        }
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        break;
      }
      default:
        why = std::string("unknown escape \\") + raw[i];
        return false;
    }
  }
  why = "a quoted value has no closing quote";
  return false;
}

Result<DecodedConfig> decode_config(const std::string& text, const SecretBox& box) {
  return Decoder(&box, nullptr, false).run(text);
}

Result<std::string> encode_config(const Config& config, const SecretBox& box, platform::Entropy& entropy) {
  return Encoder(&box, nullptr, false, entropy).run(config);
}

DecodedTransfer decode_transfer(const std::string& text, const ProvisioningKey* key) {
  return Decoder(nullptr, key, true).run_transfer(text);
}

Result<std::string> encode_transfer(const Config& config, const DevicePublicKey* to, platform::Entropy& entropy) {
  return Encoder(nullptr, to, true, entropy).run(config);
}

}  // namespace tracklight::firmware
