// tracklight device-key / export / import through the real binary, between two (or three)
// state directories: with secrets and without, sealed for the wrong device, --dry-run, a broken
// file, --replace against a merge.
#include <gtest/gtest.h>

#include "firmware/store/config_store.hpp"
#include "platform/entropy.hpp"
#include "platform/fs.hpp"
#include "platform/log.hpp"
#include "tests/integration/agent_process.hpp"

namespace tracklight::test {
namespace {

struct CliRun {
  int rc = -1;
  std::string out, err;
};

// Runs the binary with `args`, standard output and error into files; waits at most 30 s.
CliRun run_tracklight(const std::string& dir, const std::vector<std::string>& args) {
  const std::string out_path = dir + "/cli.out", err_path = dir + "/cli.err";
  pid_t pid = fork();
  if (pid == 0) {
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(out, 1);
    dup2(err, 2);
    std::vector<std::string> all = {TRACKLIGHT_BINARY};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  CliRun r;
  for (int waited = 0; waited < 30000; waited += 5) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (r.rc < 0) ::kill(pid, SIGKILL), waitpid(pid, nullptr, 0);
  r.out = read_text(out_path);
  r.err = read_text(err_path);
  return r;
}

void write_text(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

firmware::Connection jira(const std::string& id, const std::string& server = "https://example.atlassian.net") {
  firmware::Connection c;
  c.id = id;
  c.name = "Team Jira " + id;
  c.provider = "jira";
  c.server_url = server;
  c.auth = "api-key";
  c.username = "mia@example.com";
  c.api_key = "CANARY-API-KEY-" + id;
  c.headers = {{"X-Service-Token", "CANARY-HEADER-" + id}};
  c.board.enabled = true;
  c.board.jql = "project = OPS";
  c.saved_status = "authorized";
  return c;
}

firmware::Connection ado() {
  firmware::Connection c;
  c.id = "ado";
  c.name = "Fabrikam";
  c.provider = "azure-devops";
  c.server_url = "https://dev.azure.com/fabrikam";
  c.auth = "pat";
  c.token = "CANARY-PAT";
  c.project = "Fiber";
  c.saved_status = "authorized";
  return c;
}

struct TransferCliTest : ::testing::Test {
  TempDir tmp;
  std::string a = tmp.path() + "/a", b = tmp.path() + "/b";
  platform::PosixFs fs;
  platform::LinuxEntropy entropy;
  platform::MemoryLogger log;

  // The state directory as the agent leaves it after a save.
  void store(const std::string& dir, const firmware::Config& cfg) {
    firmware::ConfigStore s(fs, entropy, log, dir);
    ASSERT_TRUE(s.open().ok());
    s.load();
    ASSERT_TRUE(s.save(cfg).ok());
  }
  firmware::Config stored(const std::string& dir) {
    firmware::ConfigStore s(fs, entropy, log, dir);
    EXPECT_TRUE(s.open(firmware::StoreAccess::ReadOnly).ok());
    firmware::LoadedConfig l = s.load();
    EXPECT_EQ(l.problem, "");
    return l.config;
  }
  void SetUp() override {
    firmware::Config cfg;
    cfg.agent.admin_password_hash = "pbkdf2-sha256$1000$c2FsdA$aGFzaA";
    cfg.agent.allowed_hosts = {"kiosk.lan"};
    cfg.connections = {jira("jira-main"), ado()};
    store(a, cfg);
  }
  CliRun cli(const std::string& dir, std::vector<std::string> args) {
    args.insert(args.begin(), {"--state-dir", dir});
    return run_tracklight(tmp.path(), args);
  }
  std::string public_key(const std::string& dir) {
    CliRun r = cli(dir, {"device-key", "--public"});
    EXPECT_EQ(r.rc, 0) << r.err;
    EXPECT_EQ(r.out.find('\n'), r.out.size() - 1);  // one line
    return r.out.substr(0, r.out.size() - 1);
  }
  // Exports from `a` into a file; returns its path.
  std::string export_file(const std::vector<std::string>& args, const std::string& name = "export.conf") {
    CliRun r = cli(a, args);
    EXPECT_EQ(r.rc, 0) << r.err;
    EXPECT_EQ(r.out.find("CANARY"), std::string::npos);
    const std::string path = tmp.path() + "/" + name;
    write_text(path, r.out);
    return path;
  }
};

TEST_F(TransferCliTest, RoundTripWithSecrets) {
  const std::string key = public_key(b);
  EXPECT_EQ(key.rfind("x25519:", 0), 0u);
  EXPECT_EQ(public_key(b), key);  // made once
  struct stat st {};
  ASSERT_EQ(stat((b + "/provisioning.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  const std::string file = export_file({"export", "--with-secrets", "--for", key});
  const std::string text = read_text(file);
  EXPECT_NE(text.find("api_key = sealed-for:"), std::string::npos) << text;
  EXPECT_EQ(text.find("admin_password"), std::string::npos);

  CliRun r = cli(b, {"import", file});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("added jira-main\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("added ado\n"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("enter the"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("CANARY"), std::string::npos);
  EXPECT_EQ(r.err.find("CANARY"), std::string::npos);

  firmware::Config got = stored(b);
  ASSERT_EQ(got.connections.size(), 2u);
  EXPECT_EQ(got.connections[0].api_key, "CANARY-API-KEY-jira-main");
  EXPECT_EQ(got.connections[0].headers.at(0).value, "CANARY-HEADER-jira-main");
  EXPECT_EQ(got.connections[0].board.jql, "project = OPS");
  EXPECT_EQ(got.connections[1].token, "CANARY-PAT");
  for (const auto& c : got.connections) EXPECT_EQ(c.saved_status, "not-verified");
  EXPECT_EQ(got.agent.admin_password_hash, "");  // b still asks for its own setup
  EXPECT_EQ(got.agent.allowed_hosts, std::vector<std::string>{"kiosk.lan"});
  EXPECT_EQ(read_text(b + "/tracklight.conf").find("CANARY"), std::string::npos);

  CliRun again = cli(b, {"import", file});  // the same file again changes nothing
  EXPECT_EQ(again.rc, 0);
  EXPECT_NE(again.out.find("unchanged jira-main\n"), std::string::npos) << again.out;
  EXPECT_NE(again.out.find("nothing to change"), std::string::npos);
}

TEST_F(TransferCliTest, RoundTripWithoutSecrets) {
  const std::string file = export_file({"export"});
  const std::string text = read_text(file);
  EXPECT_EQ(text.find("sealed"), std::string::npos) << text;
  EXPECT_NE(text.find("header = X-Service-Token\n"), std::string::npos);

  // A fresh device gets the settings; each secret is named to be entered on the page.
  CliRun r = cli(b, {"import", file});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("added jira-main\n  jira-main: enter the header X-Service-Token on the page: the file does not carry it\n"
                       "  jira-main: enter the api_key on the page: the file does not carry it\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("  ado: enter the token on the page"), std::string::npos) << r.out;
  firmware::Config got = stored(b);
  ASSERT_EQ(got.connections.size(), 2u);
  EXPECT_EQ(got.connections[0].api_key, "");
  EXPECT_EQ(got.connections[0].server_url, "https://example.atlassian.net");
  EXPECT_EQ(got.connections[0].saved_status, "not-verified");

  // A device that holds the secrets for the same server keeps them.
  firmware::Config own;
  own.connections = {jira("jira-main"), ado()};
  own.connections[0].name = "Old name";
  own.connections[1].server_url = "https://dev.azure.com:8443/fabrikam";  // another port: the PAT is not sent there
  store(b, own);
  CliRun kept = cli(b, {"import", file});
  ASSERT_EQ(kept.rc, 0) << kept.err;
  EXPECT_NE(kept.out.find("changed jira-main: name\n"), std::string::npos) << kept.out;
  EXPECT_NE(kept.out.find("changed ado: server_url, token\n  ado: enter the token again on the page: the server (scheme, host or port) or its CA certificate changed"),
            std::string::npos)
      << kept.out;
  got = stored(b);
  EXPECT_EQ(got.connections[0].api_key, "CANARY-API-KEY-jira-main");
  EXPECT_EQ(got.connections[0].headers.at(0).value, "CANARY-HEADER-jira-main");
  EXPECT_EQ(got.connections[0].saved_status, "not-verified");
  EXPECT_EQ(got.connections[1].token, "");
}

TEST_F(TransferCliTest, SealedForAnotherDeviceIsRefusedByName) {
  const std::string c = tmp.path() + "/c";
  const std::string file = export_file({"export", "--with-secrets", "--for", public_key(c)});
  public_key(b);
  store(b, firmware::Config{});
  const std::string before = read_text(b + "/tracklight.conf");
  CliRun r = cli(b, {"import", file});
  EXPECT_EQ(r.rc, 1);
  const std::string text = read_text(file);
  size_t line = 1;
  for (size_t i = 0; i < text.find("api_key = sealed-for:"); ++i) line += text[i] == '\n';
  EXPECT_NE(r.err.find(file + ":" + std::to_string(line) + ": [connection jira-main] api_key is sealed for another device"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("[connection ado] token is sealed for another device"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nothing was changed"), std::string::npos);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(read_text(b + "/tracklight.conf"), before);
  EXPECT_EQ(cli(c, {"import", file}).rc, 0);  // where it was sealed for, it opens
}

TEST_F(TransferCliTest, DryRunChangesNothing) {
  firmware::Config own;
  own.connections = {jira("local-only")};
  store(b, own);
  const std::string before = read_text(b + "/tracklight.conf"), before_bak = read_text(b + "/tracklight.conf.bak");
  const std::string file = export_file({"export", "--with-secrets", "--for", public_key(b)});
  std::vector<std::string> listing_before;
  for (const auto& e : std::filesystem::directory_iterator(b)) listing_before.push_back(e.path().filename());
  CliRun r = cli(b, {"import", file, "--dry-run", "--replace"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("added jira-main\nadded ado\nremoved local-only\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("dry run: nothing was changed"), std::string::npos);
  EXPECT_EQ(read_text(b + "/tracklight.conf"), before);
  EXPECT_EQ(read_text(b + "/tracklight.conf.bak"), before_bak);
  std::vector<std::string> listing_after;
  for (const auto& e : std::filesystem::directory_iterator(b)) listing_after.push_back(e.path().filename());
  EXPECT_EQ(listing_after, listing_before);
  // On a device that has nothing yet, a dry run creates nothing either.
  const std::string fresh = tmp.path() + "/fresh";
  CliRun none = cli(fresh, {"import", export_file({"export"}, "plain.conf"), "--dry-run"});
  EXPECT_EQ(none.rc, 0) << none.err;
  EXPECT_FALSE(std::filesystem::exists(fresh));
}

// The service user owns its state directory and can plant links in it. A root-run import or
// passwd must not read through a link (and keep "the unreadable config" aside as a copy the
// service user could then read): the link is refused by name and nothing of its target lands
// in the directory.
TEST_F(TransferCliTest, ALinkPlantedAsTheConfigIsNotFollowed) {
  store(b, firmware::Config{});
  const std::string target = tmp.path() + "/root-only-secret";
  write_text(target, "CANARY-ROOT-ONLY-CONTENT\n");
  ASSERT_EQ(::unlink((b + "/tracklight.conf").c_str()), 0);
  ASSERT_EQ(::symlink(target.c_str(), (b + "/tracklight.conf").c_str()), 0);
  const std::string file = export_file({"export"});
  for (const std::vector<std::string>& args : {std::vector<std::string>{"import", file}, {"passwd"}}) {
    CliRun r = cli(b, args);
    EXPECT_NE(r.err.find("symbolic link"), std::string::npos) << args[0] << ": " << r.err << r.out;
    for (const auto& e : std::filesystem::directory_iterator(b)) {
      if (std::filesystem::is_symlink(e.path())) continue;
      EXPECT_EQ(read_text(e.path()).find("CANARY-ROOT-ONLY"), std::string::npos) << args[0] << " copied it to " << e.path();
    }
  }
  EXPECT_EQ(read_text(target), "CANARY-ROOT-ONLY-CONTENT\n");
}

TEST_F(TransferCliTest, BrokenFileNamesItsLine) {
  store(b, firmware::Config{});
  const std::string before = read_text(b + "/tracklight.conf");
  std::string text = read_text(export_file({"export"}));
  const std::string https_url = "server_url = https://dev.azure.com/fabrikam", board_60 = "board.interval_s = 60";
  const size_t at = text.find(https_url);
  ASSERT_NE(at, std::string::npos);
  text.replace(at, https_url.size(), "server_url = http://dev.azure.com/fabrikam");  // not https
  const size_t board = text.find(board_60);
  text.replace(board, board_60.size(), "board.interval_s = 5");                     // out of range
  size_t board_line = 1;
  for (size_t i = 0; i < board; ++i) board_line += text[i] == '\n';
  const std::string file = tmp.path() + "/broken.conf";
  write_text(file, text);
  CliRun r = cli(b, {"import", file});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find(file + ":" + std::to_string(board_line) + ": board.interval_s must be a whole number from 15 to 86400"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(read_text(b + "/tracklight.conf"), before);

  // With the lines right, the field rules name the field's own line.
  text.replace(board, board_60.size() - 1, board_60);
  size_t url_line = 1;
  for (size_t i = 0; i < at; ++i) url_line += text[i] == '\n';
  write_text(file, text);
  CliRun fields = cli(b, {"import", file, "--dry-run"});
  EXPECT_EQ(fields.rc, 1);
  EXPECT_NE(fields.err.find(file + ":" + std::to_string(url_line) + ": [connection ado] server_url: must use https://"),
            std::string::npos)
      << fields.err;
}

TEST_F(TransferCliTest, ReplaceAgainstMerge) {
  firmware::Config own;
  own.agent.admin_password_hash = "pbkdf2-sha256$1000$b3du$b3du";
  own.connections = {jira("local-only", "https://other.example"), jira("jira-main")};
  store(b, own);
  const std::string file = export_file({"export", "--with-secrets", "--for", public_key(b), "ado"});
  EXPECT_EQ(read_text(file).find("jira-main"), std::string::npos);  // only the connection asked for

  CliRun merge = cli(b, {"import", file});
  ASSERT_EQ(merge.rc, 0) << merge.err;
  EXPECT_EQ(merge.out.find("local-only"), std::string::npos) << merge.out;
  firmware::Config got = stored(b);
  ASSERT_EQ(got.connections.size(), 3u);
  EXPECT_EQ(got.connections[0].id, "local-only");
  EXPECT_EQ(got.connections[0].saved_status, "authorized");  // left alone
  EXPECT_EQ(got.connections[2].id, "ado");

  CliRun replace = cli(b, {"import", "--replace", file});
  ASSERT_EQ(replace.rc, 0) << replace.err;
  EXPECT_NE(replace.out.find("unchanged ado\nremoved local-only\nremoved jira-main\n"), std::string::npos) << replace.out;
  got = stored(b);
  ASSERT_EQ(got.connections.size(), 1u);
  EXPECT_EQ(got.connections[0].id, "ado");
  EXPECT_EQ(got.agent.admin_password_hash, own.agent.admin_password_hash);  // never touched
}

// The same through the page's API on a running agent: its key, an import of a file the command
// line exported for it, and an export back.
TEST_F(TransferCliTest, ThroughTheApiOfARunningAgent) {
  AgentProcess agent(b);
  ASSERT_TRUE(agent.start()) << agent.log();
  ApiClient c(agent.port());
  ASSERT_TRUE(c.setup(setup_code_of(b), "correct horse battery"));
  auto key = c.send("GET", "/api/v1/device-key");
  ASSERT_EQ(key->status, 200) << key->body;
  const std::string public_key = nlohmann::json::parse(key->body)["public_key"];
  EXPECT_EQ(public_key, this->public_key(b));  // the command line reads the same key

  const std::string text = read_text(export_file({"export", "--with-secrets", "--for", public_key}));
  const std::string body = nlohmann::json{{"text", text}}.dump();
  auto dry = c.send("POST", "/api/v1/import?dry_run=1", body);
  ASSERT_EQ(dry->status, 200) << dry->body;
  EXPECT_EQ(nlohmann::json::parse(dry->body)["lines"], nlohmann::json::array({"added jira-main", "added ado", "changed agent settings: allowed_host"}));
  EXPECT_EQ(nlohmann::json::parse(c.send("GET", "/api/v1/connections")->body)["connections"].size(), 0u);

  auto done = c.send("POST", "/api/v1/import", body);
  ASSERT_EQ(done->status, 200) << done->body;
  auto list = nlohmann::json::parse(c.send("GET", "/api/v1/connections")->body)["connections"];
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["status"], "not-verified");
  EXPECT_EQ(list[0]["secrets"]["api_key"], true);

  auto back = c.send("GET", "/api/v1/export?id=ado");
  ASSERT_EQ(back->status, 200);
  EXPECT_NE(back->body.find("[connection ado]"), std::string::npos);
  EXPECT_EQ(back->body.find("jira-main"), std::string::npos);

  auto broken = c.send("POST", "/api/v1/import", nlohmann::json{{"text", "version = 1\n[agent]\nboard_key = x\n"}}.dump());
  ASSERT_EQ(broken->status, 422);
  EXPECT_EQ(nlohmann::json::parse(broken->body)["error"]["problems"][0]["line"], 3);
  EXPECT_EQ(agent.stop(), 0);
  EXPECT_EQ(agent.log().find("CANARY"), std::string::npos);
  EXPECT_EQ(stored(b).connections[1].token, "CANARY-PAT");
}

TEST_F(TransferCliTest, UsageErrorsExit2) {
  EXPECT_EQ(cli(a, {"export", "--with-secrets"}).rc, 2);
  EXPECT_EQ(cli(a, {"export", "--for", public_key(b)}).rc, 2);
  EXPECT_EQ(cli(a, {"export", "--with-secrets", "--for", "x25519:1234"}).rc, 2);
  EXPECT_EQ(cli(a, {"import"}).rc, 2);
  EXPECT_EQ(cli(a, {"import", "one", "two"}).rc, 2);
  EXPECT_EQ(cli(a, {"device-key"}).rc, 2);
  CliRun missing = cli(a, {"export", "nope"});
  EXPECT_EQ(missing.rc, 1);
  EXPECT_NE(missing.err.find("no connection with id nope"), std::string::npos);
}

}  // namespace
}  // namespace tracklight::test
