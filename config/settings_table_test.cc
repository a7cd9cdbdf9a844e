#include "config/settings_table.h"

#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "config/command_line.h"
#include "config/config_file.h"
#include "config/fake_env.h"

namespace config {
namespace {

template <typename Settings>
void ExpectSoundTable(std::span<const Setting<Settings>> table) {
  std::set<std::string> keys, envs, options;
  for (const Setting<Settings>& row : table) {
    SCOPED_TRACE(row.key);
    ASSERT_NE(row.apply, nullptr);
    EXPECT_FALSE(std::string(row.help).empty());
    for (const char* c = row.key; *c; ++c)
      EXPECT_TRUE(islower(*c) || *c == '_') << row.key;
    if (row.flag_value) {
      // A flag stands for a value of a key the file knows.
      EXPECT_NE(FindSetting(table, row.key), nullptr);
      EXPECT_NE(row.option, nullptr);
      EXPECT_EQ(row.env, nullptr);
    } else {
      EXPECT_TRUE(keys.insert(row.key).second) << "key twice";
    }
    if (row.env) {
      EXPECT_TRUE(std::string(row.env).starts_with("COORDINATOOL_"));
      EXPECT_TRUE(envs.insert(row.env).second) << "variable twice";
    }
    if (row.option) {
      EXPECT_TRUE(options.insert(row.option).second);
    }
  }
}

TEST(SettingTableTest, KeysVariablesAndOptionsAreUnique) {
  ExpectSoundTable(ServerSettingTable());
  ExpectSoundTable(ClientSettingTable());
}

// A key both programs read is spelled the same way in both.
TEST(SettingTableTest, SharedKeysHaveOneVariable) {
  int shared = 0;
  for (const ClientSetting& client : ClientSettingTable()) {
    const ServerSetting* server = FindSetting(ServerSettingTable(), client.key);
    if (!server) continue;
    ++shared;
    EXPECT_STREQ(server->env, client.env) << client.key;
  }
  EXPECT_EQ(shared, 3);  // host, port, verbose
}

TEST(SettingTableTest, EnumNamesRoundTrip) {
  for (StoreKind kind : {StoreKind::kAuto, StoreKind::kRedis,
                         StoreKind::kEmbedded, StoreKind::kNone})
    EXPECT_EQ(ParseStoreKind(Name(kind)), kind);
  for (FairShareBy by : {FairShareBy::kTag, FairShareBy::kUid,
                         FairShareBy::kGid, FairShareBy::kProjid})
    EXPECT_EQ(ParseFairShareBy(Name(by)), by);
  EXPECT_FALSE(ParseStoreKind("Embedded"));
  EXPECT_FALSE(ParseFairShareBy(""));
  EXPECT_TRUE(StoreKind::kEmbedded == "embedded");
  EXPECT_FALSE(FairShareBy::kUid == "gid");
}

// A server command line parsed with the table's options.
struct ServerCli {
  CLI::App app;
  CommandLine<ServerSettings> options{&app, ServerSettingTable()};

  // Parses `args`; on a parse error returns false with *error.
  bool Parse(std::vector<std::string> args, std::string* error) {
    std::vector<std::string> argv{"coordinatool"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> pointers;
    for (std::string& arg : argv) pointers.push_back(arg.data());
    try {
      app.parse(static_cast<int>(pointers.size()), pointers.data());
    } catch (const CLI::ParseError& e) {
      *error = e.what();
      return false;
    }
    return true;
  }
};

TEST(CommandLineTest, OptionsOverrideEnvironmentOverFile) {
  ServerSettings s;
  std::vector<std::string> warnings;
  std::string error;
  ASSERT_TRUE(ApplyServerFile(
      ParseConfigText("c",
                      "port 1\nclient_grace_ms 5\narchive_id 1\narchive_id 2\n"
                      "store embedded\nhost h\n"),
      &s, &warnings, &error))
      << error;
  ASSERT_TRUE(ApplyServerEnv(
      FakeEnv({{"COORDINATOOL_PORT", "2"}, {"COORDINATOOL_CLIENT_GRACE", "6"}}),
      &s, &warnings, &error))
      << error;
  ServerCli cli;
  ASSERT_TRUE(cli.Parse({"-p", "3", "-A", "7", "--archive", "8", "--store",
                         "redis", "--no-store", "--redis-port", "0x10"},
                        &error))
      << error;
  ASSERT_TRUE(cli.options.Apply(&s, &error)) << error;
  EXPECT_EQ(s.host, "h");           // file
  EXPECT_EQ(s.client_grace_ms, 6);  // environment over file
  EXPECT_EQ(s.port, "3");           // option over both
  EXPECT_EQ(s.archive_ids, (std::vector<uint32_t>{7, 8}));  // replaced
  EXPECT_EQ(s.store, StoreKind::kNone);  // --no-store wins over --store
  EXPECT_EQ(s.redis_port, 16);
  EXPECT_TRUE(s.redis_configured);
}

TEST(CommandLineTest, NoOptionChangesNothing) {
  ServerSettings s;
  s.archive_ids = {4};
  std::string error;
  ServerCli cli;
  ASSERT_TRUE(cli.Parse({}, &error)) << error;
  ASSERT_TRUE(cli.options.Apply(&s, &error)) << error;
  EXPECT_EQ(s.archive_ids, (std::vector<uint32_t>{4}));
  EXPECT_EQ(s.store, StoreKind::kAuto);
  EXPECT_FALSE(s.redis_configured);
}

TEST(CommandLineTest, BadValueIsRefusedWhileParsingNamingTheOption) {
  std::string error;
  ServerCli store;
  EXPECT_FALSE(store.Parse({"--store", "sql"}, &error));
  EXPECT_EQ(error, "--store: 'sql' is not one of auto, redis, embedded, none");
  ServerCli port;
  EXPECT_FALSE(port.Parse({"--redis-port", "70000"}, &error));
  EXPECT_EQ(error, "--redis-port: '70000' is not an integer in 1..65535");
  ServerCli bind;
  EXPECT_FALSE(bind.Parse({"-p", "65536"}, &error));
  EXPECT_EQ(error, "--port: '65536' is not a port number in 0..65535");
  ServerCli negative;
  EXPECT_FALSE(negative.Parse({"--port", "-1"}, &error));
  EXPECT_EQ(error, "--port: '-1' is not a port number in 0..65535");
  ServerCli archive;
  EXPECT_FALSE(archive.Parse({"-A", "1", "-A", "0"}, &error));
  ServerCli twice;
  EXPECT_FALSE(
      twice.Parse({"--client-grace", "1", "--client-grace", "2"}, &error));
}

TEST(CommandLineTest, ClientTableGivesHostAndPort) {
  CLI::App app;
  CommandLine<ClientSettings> options(&app, ClientSettingTable());
  const char* argv[] = {"coordinatool-client", "-H", "server", "--port", "9"};
  app.parse(5, const_cast<char**>(argv));
  ClientSettings s;
  std::string error;
  ASSERT_TRUE(options.Apply(&s, &error)) << error;
  EXPECT_EQ(s.hosts, std::vector<std::string>{"server"});
  EXPECT_EQ(s.port, "9");
}

// Several servers: -H repeated or with commas, replacing the file's list
// at its first use; a bad entry is refused while parsing, naming it.
TEST(CommandLineTest, ClientHostsRepeatedOrWithCommasReplaceTheFiles) {
  CLI::App app;
  CommandLine<ClientSettings> options(&app, ClientSettingTable());
  const char* argv[] = {"coordinatool-client", "-H", "a,b:6000", "--host", "c"};
  app.parse(5, const_cast<char**>(argv));
  ClientSettings s;
  s.hosts = {"from-the-file"};
  std::string error;
  ASSERT_TRUE(options.Apply(&s, &error)) << error;
  EXPECT_EQ(s.hosts, (std::vector<std::string>{"a", "b:6000", "c"}));

  CLI::App bad_app;
  CommandLine<ClientSettings> bad(&bad_app, ClientSettingTable());
  const char* bad_argv[] = {"coordinatool-client", "-H", "a,,b"};
  try {
    bad_app.parse(3, const_cast<char**>(bad_argv));
    ADD_FAILURE() << "-H a,,b accepted";
  } catch (const CLI::ParseError& e) {
    EXPECT_NE(std::string(e.what()).find("empty host in 'a,,b'"),
              std::string::npos)
        << e.what();
  }
}

TEST(CommandLineTest, HelpListsEveryVariableAndOption) {
  CLI::App app;
  CommandLine<ServerSettings> options(&app, ServerSettingTable());
  app.footer(EnvironmentHelp(ServerSettingTable()));
  std::string help = app.help();
  for (const ServerSetting& row : ServerSettingTable()) {
    if (row.env) {
      EXPECT_NE(help.find(row.env), std::string::npos) << row.env;
    }
    if (!row.option) continue;
    std::string name(row.option);
    name = name.substr(name.find("--"));
    EXPECT_NE(help.find(name), std::string::npos) << name;
    EXPECT_NE(help.find(row.help), std::string::npos) << row.help;
  }
  EXPECT_NE(help.find("COORDINATOOL_CONF"), std::string::npos);
}

}  // namespace
}  // namespace config
