#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <string_view>

#include "config/config_file.h"
#include "config/fake_env.h"
#include "config/settings.h"

namespace config {
namespace {

TEST(ConfigFileTest, SplitsKeysAndValuesLikeTheOriginal) {
  ConfigText text = ParseConfigText("c.conf",
                                    "# comment\n"
                                    "\n"
                                    "  HOST   server.example  \n"
                                    "archive_on_hosts tag=a  h1 h2\r\n"
                                    "lonely\n");
  ASSERT_EQ(text.entries.size(), 3u);
  EXPECT_EQ(text.entries[0].key, "host");
  EXPECT_EQ(text.entries[0].value, "server.example");
  EXPECT_EQ(text.entries[0].line, 3);
  EXPECT_EQ(text.entries[1].value, "tag=a  h1 h2");
  EXPECT_EQ(text.entries[2].key, "lonely");
  EXPECT_EQ(text.entries[2].value, "");
}

TEST(ConfigFileTest, IntegersUseAutomaticBase) {
  EXPECT_EQ(ParseInteger("0x10", 0, 100), 16);
  EXPECT_EQ(ParseInteger("010", 0, 100), 8);
  EXPECT_EQ(ParseInteger("42", 0, 100), 42);
  EXPECT_FALSE(ParseInteger("42x", 0, 100));
  EXPECT_FALSE(ParseInteger("101", 0, 100));
  EXPECT_FALSE(ParseInteger("", 0, 100));
}

TEST(ConfigFileTest, SizeSyntax) {
  std::string warning, error;
  EXPECT_EQ(ParseSize("1M", &warning, &error), 1u << 20);
  EXPECT_EQ(ParseSize("4k", &warning, &error), 4096u);
  EXPECT_EQ(ParseSize("0x10", &warning, &error), 16u);
  EXPECT_EQ(ParseSize("-1", &warning, &error), kUnlimited);
  EXPECT_EQ(ParseSize("-1G", &warning, &error), kUnlimited);
  EXPECT_EQ(ParseSize("2KiB", &warning, &error), 2048u);
  EXPECT_EQ(warning, "'2KiB': ignoring 'iB' after the unit");
  EXPECT_FALSE(ParseSize("5x", &warning, &error));
  EXPECT_EQ(error, "'5x': unexpected 'x' after the number");
  EXPECT_FALSE(ParseSize("-2", &warning, &error));
  EXPECT_FALSE(ParseSize("4G", &warning, &error));
  EXPECT_EQ(error, "'4G' is larger than 4294967295");
}

// strtoll stops at a NUL byte: "4\0..." must not read as 4 (found by
// fuzz/config_file).
TEST(ConfigFileTest, SizeWithANulByteIsRefused) {
  std::string warning, error;
  EXPECT_FALSE(ParseSize(std::string_view("4\0", 2), &warning, &error));
  EXPECT_EQ(error, "'4\\x00': a size cannot contain a NUL byte");
  EXPECT_FALSE(ParseSize(std::string_view("4k\0junk", 7), &warning, &error));
  EXPECT_FALSE(ParseSize(std::string_view("\0", 1), &warning, &error));
  ConfigText file =
      ParseConfigText("c.conf", std::string_view("max_restore 4\0\n", 15));
  ClientSettings settings;
  std::vector<std::string> warnings;
  EXPECT_FALSE(ApplyClientFile(file, &settings, &warnings, &error));
  EXPECT_EQ(settings.max_restore, kUnlimited);
}

TEST(ServerSettingsTest, DefaultsAreTheOriginals) {
  ServerSettings s;
  EXPECT_EQ(s.host, "coordinatool");
  EXPECT_EQ(s.port, "5123");
  EXPECT_EQ(s.redis_host, "localhost");
  EXPECT_EQ(s.redis_port, 6379);
  EXPECT_EQ(s.client_grace_ms, 600000);
  EXPECT_FALSE(s.batching());
  EXPECT_EQ(s.reporting_schedule_interval_ms, 60000);
}

TEST(ServerSettingsTest, ReadsEveryServerKey) {
  ConfigText text = ParseConfigText(
      "c.conf",
      "host 0.0.0.0\nport 6000\nverbose DEBUG\nredis_host\nredis_port 7000\n"
      "archive_id 1\narchive_id 3\nclient_grace_ms 5000\n"
      "archive_on_hosts tape=a m1 m2\narchive_on_hosts_ch proj= 10 m1 m2 m3\n"
      "batch_archives_slice_sec 10 60\nbatch_archives_slots_per_client 2\n"
      "reporting_dir .reports\nreporting_hint job\n"
      "reporting_schedule_interval_ms 100\nmax_archive 4\nbogus 1\n");
  ServerSettings s;
  std::vector<std::string> warnings;
  std::string error;
  ASSERT_TRUE(ApplyServerFile(text, &s, &warnings, &error)) << error;
  EXPECT_EQ(s.host, "0.0.0.0");
  EXPECT_EQ(s.port, "6000");
  EXPECT_EQ(s.verbose, 6);
  EXPECT_EQ(s.redis_host, "localhost");  // a key without value is skipped
  EXPECT_EQ(s.redis_port, 7000);
  EXPECT_EQ(s.archive_ids, (std::vector<uint32_t>{1, 3}));
  EXPECT_EQ(s.client_grace_ms, 5000);
  ASSERT_EQ(s.archive_on_hosts.size(), 1u);
  EXPECT_EQ(s.archive_on_hosts[0].hosts,
            (std::vector<std::string>{"m1", "m2"}));
  ASSERT_EQ(s.archive_on_hosts_ch.size(), 1u);
  EXPECT_EQ(s.archive_on_hosts_ch[0].count, 10u);
  EXPECT_EQ(s.archive_on_hosts_ch[0].line, 10);
  EXPECT_EQ(s.batch_idle_sec, 10u);
  EXPECT_EQ(s.batch_max_sec, 60u);
  EXPECT_EQ(s.batch_slots_per_client, 2u);
  EXPECT_EQ(s.reporting_dir, ".reports");
  EXPECT_EQ(s.reporting_schedule_interval_ms, 100);
  EXPECT_EQ(warnings, (std::vector<std::string>{
                          "c.conf:4: key 'redis_host': no value, line ignored",
                          "c.conf:17: key 'bogus': unknown key, ignored"}));
}

TEST(ServerSettingsTest, RedisCountsAsConfiguredOnlyWhenMentioned) {
  std::vector<std::string> warnings;
  std::string error;
  ServerSettings plain;
  ASSERT_TRUE(ApplyServerFile(ParseConfigText("c", "port 1\n"), &plain,
                              &warnings, &error));
  ASSERT_TRUE(ApplyServerEnv(FakeEnv({}), &plain, &warnings, &error));
  EXPECT_FALSE(plain.redis_configured);
  EXPECT_EQ(plain.redis_host, "localhost");
  ServerSettings by_file;
  ASSERT_TRUE(ApplyServerFile(ParseConfigText("c", "redis_port 7000\n"),
                              &by_file, &warnings, &error));
  EXPECT_TRUE(by_file.redis_configured);
  ServerSettings by_env;
  ASSERT_TRUE(ApplyServerEnv(FakeEnv({{"COORDINATOOL_REDIS_HOST", "db"}}),
                             &by_env, &warnings, &error));
  EXPECT_TRUE(by_env.redis_configured);
}

TEST(ServerSettingsTest, FairShareAndAgingKeys) {
  ServerSettings s;
  std::vector<std::string> warnings;
  std::string error;
  ASSERT_TRUE(ApplyServerFile(
      ParseConfigText("c",
                      "fair_share_tag user=\nfair_share_weight alice 3\n"
                      "fair_share_weight bob 1\narchive_max_wait_sec 3600\n"),
      &s, &warnings, &error))
      << error;
  EXPECT_EQ(s.fair_share_tag, "user=");
  EXPECT_EQ(s.fair_share_weights.at("alice"), 3u);
  EXPECT_EQ(s.archive_max_wait_sec, 3600u);
  EXPECT_FALSE(
      ApplyServerFile(ParseConfigText("c", "fair_share_weight alice 2\n"), &s,
                      &warnings, &error));
  EXPECT_EQ(error,
            "c:1: key 'fair_share_weight': weight of 'alice' given twice");
  EXPECT_FALSE(
      ApplyServerFile(ParseConfigText("c", "\nfair_share_weight bob 0\n"), &s,
                      &warnings, &error));
  EXPECT_EQ(error,
            "c:2: key 'fair_share_weight': expected OWNER WEIGHT (1..1000000)");
}

TEST(ServerSettingsTest, BadValueNamesFileLineAndKey) {
  ServerSettings s;
  std::vector<std::string> warnings;
  std::string error;
  EXPECT_FALSE(
      ApplyServerFile(ParseConfigText("/etc/c.conf", "\nredis_port 70000\n"),
                      &s, &warnings, &error));
  EXPECT_EQ(error,
            "/etc/c.conf:2: key 'redis_port': '70000' is not an integer in "
            "1..65535");
  EXPECT_FALSE(ApplyServerFile(ParseConfigText("c", "archive_id 0\n"), &s,
                               &warnings, &error));
  EXPECT_EQ(error,
            "c:1: key 'archive_id': '0' is not an integer in 1..2147483647");
  EXPECT_FALSE(ApplyServerFile(ParseConfigText("c", "verbose loud\n"), &s,
                               &warnings, &error));
  EXPECT_EQ(error,
            "c:1: key 'verbose': unknown log level 'loud': one of off, "
            "fatal, error, warn, normal, info, debug");
  EXPECT_FALSE(
      ApplyServerFile(ParseConfigText("c", "batch_archives_slices_sec ten\n"),
                      &s, &warnings, &error));
  EXPECT_EQ(
      error,
      "c:1: key 'batch_archives_slices_sec': expected IDLE [MAX] in seconds");
  EXPECT_FALSE(
      ApplyServerFile(ParseConfigText("c", "archive_on_hosts_ch t= x h\n"), &s,
                      &warnings, &error));
  EXPECT_EQ(error,
            "c:1: key 'archive_on_hosts_ch': COUNT 'x' is not an integer in "
            "0..4294967295");
}

// A port out of range is an error naming the key, never a wrap-around
// (70000 would bind 4464) nor a service name.
TEST(ServerSettingsTest, PortOutOfRangeIsAnErrorNamingTheKey) {
  for (const char* bad : {"65536", "-1", "12x", "0x10", "010", "99999999"}) {
    SCOPED_TRACE(bad);
    ServerSettings s;
    std::vector<std::string> warnings;
    std::string error;
    EXPECT_FALSE(
        ApplyServerFile(ParseConfigText("c", fmt::format("port {}\n", bad)), &s,
                        &warnings, &error));
    EXPECT_EQ(error, fmt::format("c:1: key 'port': '{}' is not a port "
                                 "number in 0..65535",
                                 bad));
    EXPECT_EQ(s.port, "5123");
    ClientSettings c;
    EXPECT_FALSE(
        ApplyClientEnv(FakeEnv({{"COORDINATOOL_PORT", bad}}), &c, &error));
    EXPECT_EQ(error, fmt::format("COORDINATOOL_PORT: '{}' is not a port "
                                 "number in 1..65535",
                                 bad));
    EXPECT_EQ(c.port, "5123");
  }
  // 0 binds any free port; a client cannot connect to it.
  ServerSettings s;
  ClientSettings c;
  std::vector<std::string> warnings;
  std::string error;
  EXPECT_TRUE(
      ApplyServerFile(ParseConfigText("c", "port 0\n"), &s, &warnings, &error))
      << error;
  EXPECT_EQ(s.port, "0");
  EXPECT_FALSE(
      ApplyClientFile(ParseConfigText("c", "port 0\n"), &c, &warnings, &error));
  EXPECT_EQ(error, "c:1: key 'port': '0' is not a port number in 1..65535");
  EXPECT_TRUE(ApplyClientFile(ParseConfigText("c", "port 65535\n"), &c,
                              &warnings, &error))
      << error;
  EXPECT_EQ(c.port, "65535");
  EXPECT_FALSE(ApplyServerFile(ParseConfigText("c", "redis_port 0\n"), &s,
                               &warnings, &error));
  EXPECT_EQ(error, "c:1: key 'redis_port': '0' is not an integer in 1..65535");
}

TEST(ServerSettingsTest, EnvironmentOverridesFile) {
  ServerSettings s;
  std::vector<std::string> warnings;
  std::string error;
  ASSERT_TRUE(ApplyServerFile(ParseConfigText("c", "port 1\nredis_host db\n"),
                              &s, &warnings, &error));
  ASSERT_TRUE(ApplyServerEnv(FakeEnv({{"COORDINATOOL_PORT", "2"},
                                      {"COORDINATOOL_REDIS_HOST", ""},
                                      {"COORDINATOOL_REDIS_PORT", "nope"},
                                      {"COORDINATOOL_CLIENT_GRACE", "10"}}),
                             &s, &warnings, &error))
      << error;
  EXPECT_EQ(s.port, "2");
  EXPECT_EQ(s.redis_host, "");  // empty disables Redis
  EXPECT_EQ(s.redis_port, 6379);
  EXPECT_EQ(s.client_grace_ms, 10);
  EXPECT_EQ(warnings.back(),
            "COORDINATOOL_REDIS_PORT: 'nope' is not a port, ignored");
  EXPECT_FALSE(ApplyServerEnv(FakeEnv({{"COORDINATOOL_CLIENT_GRACE", "x"}}), &s,
                              &warnings, &error));
}

// Issue 4: the store keys, from the file and the environment; errors name
// file, line and key.
TEST(ServerSettingsTest, StoreKeys) {
  ServerSettings s;
  std::vector<std::string> warnings;
  std::string error;
  ASSERT_TRUE(ApplyServerFile(
      ParseConfigText("c",
                      "store embedded\nstate_dir /srv/cdt\nredis_socket "
                      "/run/redis.sock\nredis_user cdt\nredis_password "
                      "s3cret\nstale_timeout_ms 60000\n"),
      &s, &warnings, &error))
      << error;
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(s.store, "embedded");
  EXPECT_EQ(s.state_dir, "/srv/cdt");
  EXPECT_EQ(s.redis_socket, "/run/redis.sock");
  EXPECT_EQ(s.redis_user, "cdt");
  EXPECT_EQ(s.redis_password, "s3cret");
  EXPECT_EQ(s.stale_timeout_ms, 60000);
  ASSERT_TRUE(ApplyServerEnv(FakeEnv({{"COORDINATOOL_STORE", "redis"},
                                      {"COORDINATOOL_REDIS_PASSWORD", "pw"},
                                      {"COORDINATOOL_REDIS_USER", "u"},
                                      {"COORDINATOOL_REDIS_SOCKET", ""},
                                      {"COORDINATOOL_STATE_DIR", "/tmp/s"},
                                      {"COORDINATOOL_STALE_TIMEOUT_MS", "5"}}),
                             &s, &warnings, &error))
      << error;
  EXPECT_EQ(s.store, "redis");
  EXPECT_EQ(s.redis_password, "pw");
  EXPECT_EQ(s.redis_user, "u");
  EXPECT_EQ(s.redis_socket, "");
  EXPECT_EQ(s.state_dir, "/tmp/s");
  EXPECT_EQ(s.stale_timeout_ms, 5);
  EXPECT_FALSE(ApplyServerFile(ParseConfigText("/etc/c.conf", "store sql\n"),
                               &s, &warnings, &error));
  EXPECT_EQ(error,
            "/etc/c.conf:1: key 'store': 'sql' is not one of auto, redis, "
            "embedded, none");
  EXPECT_FALSE(ApplyServerEnv(FakeEnv({{"COORDINATOOL_STORE", "x"}}), &s,
                              &warnings, &error));
  EXPECT_EQ(
      error,
      "COORDINATOOL_STORE: 'x' is not one of auto, redis, embedded, none");
  EXPECT_FALSE(ApplyServerFile(ParseConfigText("c", "stale_timeout_ms -1\n"),
                               &s, &warnings, &error));
  EXPECT_EQ(error,
            "c:1: key 'stale_timeout_ms': '-1' is not an integer in "
            "0..9223372036854775807");
}

// Issue 17: Sentinel discovery and WAIT for replicas; a bad sentinel
// address or count is a file:line error.
TEST(ServerSettingsTest, RedisHighAvailabilityKeys) {
  ServerSettings s;
  EXPECT_TRUE(s.redis_sentinels.empty());
  EXPECT_EQ(s.redis_wait_replicas, 0);
  EXPECT_EQ(s.redis_wait_timeout_ms, 1000);
  std::vector<std::string> warnings;
  std::string error;
  ASSERT_TRUE(ApplyServerFile(
      ParseConfigText("c",
                      "redis_sentinels a:26379  10.0.0.2:26380 [::1]:1\n"
                      "redis_master_name cdt\nredis_wait_replicas 1\n"
                      "redis_wait_timeout_ms 250\n"),
      &s, &warnings, &error))
      << error;
  EXPECT_TRUE(s.redis_configured);
  EXPECT_EQ(s.redis_sentinels,
            (std::vector<std::string>{"a:26379", "10.0.0.2:26380", "[::1]:1"}));
  EXPECT_EQ(s.redis_master_name, "cdt");
  EXPECT_EQ(s.redis_wait_replicas, 1);
  EXPECT_EQ(s.redis_wait_timeout_ms, 250);
  ASSERT_TRUE(
      ApplyServerEnv(FakeEnv({{"COORDINATOOL_REDIS_SENTINELS", "b:1"},
                              {"COORDINATOOL_REDIS_WAIT_REPLICAS", "2"}}),
                     &s, &warnings, &error))
      << error;
  EXPECT_EQ(s.redis_sentinels, std::vector<std::string>{"b:1"});
  EXPECT_EQ(s.redis_wait_replicas, 2);
  for (const char* bad :
       {"a", "a:0", "a:65536", "a:026379", "a:x", ":1", "::1:5", "[::1]"}) {
    ServerSettings t;
    EXPECT_FALSE(ApplyServerFile(
        ParseConfigText("c", std::string("\nredis_sentinels s:1 ") + bad), &t,
        &warnings, &error))
        << bad;
    EXPECT_EQ(error, std::string("c:2: key 'redis_sentinels': '") + bad +
                         "' is not HOST:PORT (port in 1..65535, [v6]:PORT "
                         "for IPv6)");
    EXPECT_TRUE(t.redis_sentinels.empty()) << "nothing applied";
  }
  EXPECT_FALSE(ApplyServerFile(ParseConfigText("c", "redis_wait_replicas -1\n"),
                               &s, &warnings, &error));
  EXPECT_EQ(error,
            "c:1: key 'redis_wait_replicas': '-1' is not an integer in "
            "0..1000");
  EXPECT_FALSE(
      ApplyServerFile(ParseConfigText("c", "redis_wait_timeout_ms 0\n"), &s,
                      &warnings, &error));
  EXPECT_EQ(error,
            "c:1: key 'redis_wait_timeout_ms': '0' is not an integer in "
            "1..600000");
}

// Issue 10: the connection keys, from the file and the environment.
TEST(ServerSettingsTest, ExposureAndQueueKeys) {
  ServerSettings s;
  EXPECT_FALSE(s.allow_insecure);
  EXPECT_TRUE(s.queue_check_lustre);
  std::vector<std::string> warnings;
  std::string error;
  ASSERT_TRUE(ApplyServerFile(
      ParseConfigText("c", "allow_insecure yes\nqueue_check_lustre off\n"), &s,
      &warnings, &error))
      << error;
  EXPECT_TRUE(s.allow_insecure);
  EXPECT_FALSE(s.queue_check_lustre);
  ASSERT_TRUE(
      ApplyServerEnv(FakeEnv({{"COORDINATOOL_ALLOW_INSECURE", "0"},
                              {"COORDINATOOL_QUEUE_CHECK_LUSTRE", "true"}}),
                     &s, &warnings, &error))
      << error;
  EXPECT_FALSE(s.allow_insecure);
  EXPECT_TRUE(s.queue_check_lustre);
  EXPECT_FALSE(ApplyServerFile(ParseConfigText("c", "allow_insecure maybe\n"),
                               &s, &warnings, &error));
  EXPECT_EQ(error, "c:1: key 'allow_insecure': 'maybe' is not one of yes, no");
  EXPECT_FALSE(s.allow_insecure);
}

TEST(ServerSettingsTest, ConnectionKeys) {
  ServerSettings s;
  EXPECT_EQ(s.max_connections, 0);
  EXPECT_EQ(s.connection_memory_mb, 64);
  EXPECT_EQ(s.liveness_timeout_ms, 120000);
  EXPECT_EQ(s.handshake_timeout_ms, 30000);
  EXPECT_EQ(s.oversized_timeout_ms, 300000);
  std::vector<std::string> warnings;
  std::string error;
  ASSERT_TRUE(ApplyServerFile(
      ParseConfigText("c",
                      "max_connections 500\nconnection_memory_mb 16\n"
                      "liveness_timeout_ms 0\nhandshake_timeout_ms 1000\n"
                      "oversized_timeout_ms 60000\n"),
      &s, &warnings, &error))
      << error;
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(s.max_connections, 500);
  EXPECT_EQ(s.connection_memory_mb, 16);
  EXPECT_EQ(s.liveness_timeout_ms, 0);
  EXPECT_EQ(s.handshake_timeout_ms, 1000);
  EXPECT_EQ(s.oversized_timeout_ms, 60000);
  ASSERT_TRUE(
      ApplyServerEnv(FakeEnv({{"COORDINATOOL_MAX_CONNECTIONS", "7"},
                              {"COORDINATOOL_CONNECTION_MEMORY_MB", "2"},
                              {"COORDINATOOL_LIVENESS_TIMEOUT_MS", "1500"},
                              {"COORDINATOOL_HANDSHAKE_TIMEOUT_MS", "0"},
                              {"COORDINATOOL_OVERSIZED_TIMEOUT_MS", "5"}}),
                     &s, &warnings, &error))
      << error;
  EXPECT_EQ(s.max_connections, 7);
  EXPECT_EQ(s.connection_memory_mb, 2);
  EXPECT_EQ(s.liveness_timeout_ms, 1500);
  EXPECT_EQ(s.handshake_timeout_ms, 0);
  EXPECT_EQ(s.oversized_timeout_ms, 5);
  EXPECT_FALSE(ApplyServerFile(
      ParseConfigText("/etc/c.conf", "\nconnection_memory_mb 0\n"), &s,
      &warnings, &error));
  EXPECT_EQ(error,
            "/etc/c.conf:2: key 'connection_memory_mb': '0' is not an "
            "integer in 1..1048576");
  EXPECT_FALSE(
      ApplyServerEnv(FakeEnv({{"COORDINATOOL_LIVENESS_TIMEOUT_MS", "soon"}}),
                     &s, &warnings, &error));
  EXPECT_EQ(error,
            "COORDINATOOL_LIVENESS_TIMEOUT_MS: 'soon' is not a number of "
            "milliseconds");
}

// The result of ApplyServerFile on a file named /etc/c.conf.
struct Applied {
  bool ok = false;
  ServerSettings settings;
  std::vector<std::string> warnings;
  std::string error;
};

Applied ApplyServerText(std::string_view text) {
  Applied a;
  a.ok = ApplyServerFile(ParseConfigText("/etc/c.conf", text), &a.settings,
                         &a.warnings, &a.error);
  return a;
}

TEST(ServerSettingsTest, LocalityFairShareKindAndMoversKeys) {
  ServerSettings defaults;
  EXPECT_EQ(defaults.fair_share_by, "tag");
  EXPECT_TRUE(defaults.restore_locality_command.empty());
  EXPECT_EQ(defaults.restore_locality_timeout_ms, 5000);
  EXPECT_TRUE(defaults.movers.empty());
  Applied a = ApplyServerText(
      "restore_locality_command /usr/bin/order  --by tape\n"
      "restore_locality_timeout_ms 2000\nfair_share_by projid\n"
      "movers m1 m2\nmovers m3 m1\n");
  ASSERT_TRUE(a.ok) << a.error;
  EXPECT_EQ(a.settings.restore_locality_command,
            (std::vector<std::string>{"/usr/bin/order", "--by", "tape"}));
  EXPECT_EQ(a.settings.restore_locality_timeout_ms, 2000);
  EXPECT_EQ(a.settings.fair_share_by, "projid");
  EXPECT_EQ(a.settings.movers, (std::vector<std::string>{"m1", "m2", "m3"}));
  EXPECT_EQ(a.settings.mover_lines, (std::vector<int>{4, 4, 5}));
  EXPECT_EQ(a.warnings,
            (std::vector<std::string>{
                "/etc/c.conf:5: key 'movers': host 'm1' already listed at "
                "line 4"}));
}

TEST(ServerSettingsTest, BadLocalityOrFairShareKindNamesTheLine) {
  Applied a = ApplyServerText("\nfair_share_by user\n");
  EXPECT_FALSE(a.ok);
  EXPECT_EQ(a.error,
            "/etc/c.conf:2: key 'fair_share_by': 'user' is not one of tag, "
            "uid, gid, projid");
  a = ApplyServerText("restore_locality_timeout_ms 0\n");
  EXPECT_FALSE(a.ok);
  EXPECT_EQ(a.error,
            "/etc/c.conf:1: key 'restore_locality_timeout_ms': '0' is not an "
            "integer in 1..2147483647");
}

// With `movers` declared, a host rule naming another host is a typo that
// would park archives on a mover that never comes.
TEST(PolicyCheckTest, HostRuleNamingAnUndeclaredMoverIsAnError) {
  Applied a = ApplyServerText(
      "movers m1 m2\nmovers m3\narchive_on_hosts tape= m1 m4\n");
  EXPECT_FALSE(a.ok);
  EXPECT_EQ(a.error,
            "/etc/c.conf:3: key 'archive_on_hosts': unknown host 'm4' (not in "
            "movers, lines 1, 2)");
  a = ApplyServerText("movers m1 m2\n\narchive_on_hosts_ch proj= 0 m2 mx\n");
  EXPECT_FALSE(a.ok);
  EXPECT_EQ(a.error,
            "/etc/c.conf:3: key 'archive_on_hosts_ch': unknown host 'mx' (not "
            "in movers, line 1)");
  // Without `movers`, any host goes, as in the original.
  a = ApplyServerText("archive_on_hosts tape= m1 m4\n");
  EXPECT_TRUE(a.ok) << a.error;
  a = ApplyServerText("movers m1 m4\narchive_on_hosts tape= m1 m4\n");
  EXPECT_TRUE(a.ok) << a.error;
}

// Rules are consulted last-first and a rule with hosts always yields a
// mover, so an earlier rule of the same tag is dead, whatever its kind.
TEST(PolicyCheckTest, RuleHiddenByALaterRuleOfTheSameTagIsAnError) {
  Applied a = ApplyServerText(
      "archive_on_hosts_ch tape= 0 a b\narchive_on_hosts disk= c\n"
      "archive_on_hosts tape= d\narchive_on_hosts tape= e\n");
  EXPECT_FALSE(a.ok);
  EXPECT_EQ(a.error,
            "/etc/c.conf:1: key 'archive_on_hosts_ch': tag 'tape=' is also "
            "ruled at line 4, which takes precedence: this rule never applies");
  // Different tags, even when one contains the other.
  a = ApplyServerText("archive_on_hosts tape= a\narchive_on_hosts tape=x b\n");
  EXPECT_TRUE(a.ok) << a.error;
}

TEST(PolicyCheckTest, HostListedTwiceInARuleIsAnError) {
  Applied a = ApplyServerText("\narchive_on_hosts tape= a b a\n");
  EXPECT_FALSE(a.ok);
  EXPECT_EQ(a.error,
            "/etc/c.conf:2: key 'archive_on_hosts': host 'a' listed twice: it "
            "would get twice its share of the draws");
  a = ApplyServerText("archive_on_hosts_ch proj= 4 a b b\n");
  EXPECT_FALSE(a.ok);
  EXPECT_EQ(a.error,
            "/etc/c.conf:1: key 'archive_on_hosts_ch': host 'b' listed twice: "
            "it would get twice its share of the hash ring");
}

TEST(PolicyCheckTest, RuleWithoutHostIsStillAWarning) {
  Applied a = ApplyServerText("movers m1\narchive_on_hosts tape=\n");
  EXPECT_TRUE(a.ok) << a.error;
  EXPECT_TRUE(a.settings.archive_on_hosts.empty());
  EXPECT_EQ(a.warnings, (std::vector<std::string>{
                            "/etc/c.conf:2: key 'archive_on_hosts': no host "
                            "given, line ignored"}));
}

TEST(PolicyCheckTest, FairShareWeightWithoutFairShareIsAnError) {
  Applied a = ApplyServerText("port 1\nfair_share_weight alice 2\n");
  EXPECT_FALSE(a.ok);
  EXPECT_EQ(a.error,
            "/etc/c.conf:2: key 'fair_share_weight': fair_share_weight without "
            "fair_share_tag or fair_share_by");
  a = ApplyServerText(
      "fair_share_by tag\nfair_share_weight alice 2\n"
      "fair_share_weight bob 1\n");
  EXPECT_FALSE(a.ok);
  EXPECT_EQ(a.error,
            "/etc/c.conf:2: key 'fair_share_weight': fair_share_weight without "
            "fair_share_tag or fair_share_by");
  a = ApplyServerText("fair_share_by uid\nfair_share_weight 1000 2\n");
  EXPECT_TRUE(a.ok) << a.error;
  a = ApplyServerText("fair_share_weight alice 2\nfair_share_tag user=\n");
  EXPECT_TRUE(a.ok) << a.error;
}

TEST(PolicyCheckTest, BatchSlotsWithoutBatchingIsAWarning) {
  Applied a = ApplyServerText("batch_archives_slots_per_client 2\n");
  EXPECT_TRUE(a.ok) << a.error;
  EXPECT_EQ(a.warnings, (std::vector<std::string>{
                            "/etc/c.conf:1: key "
                            "'batch_archives_slots_per_client': batching is "
                            "off (no batch_archives_slices_sec, or IDLE 0): "
                            "ignored"}));
  a = ApplyServerText(
      "batch_archives_slices_sec 0\nbatch_archives_slots_per_client 3\n");
  ASSERT_EQ(a.warnings.size(), 1u);
  EXPECT_TRUE(a.warnings[0].starts_with(
      "/etc/c.conf:2: key 'batch_archives_slots_per_client': batching is off"));
  a = ApplyServerText("batch_archives_slots_per_client 0\n");
  EXPECT_TRUE(a.warnings.empty());
  a = ApplyServerText(
      "batch_archives_slices_sec 10\nbatch_archives_slots_per_client 3\n");
  EXPECT_TRUE(a.warnings.empty());
}

TEST(PolicyCheckTest, BatchMaxShorterThanIdleIsAnError) {
  Applied a = ApplyServerText("\nbatch_archives_slices_sec 60 10\n");
  EXPECT_FALSE(a.ok);
  EXPECT_EQ(a.error,
            "/etc/c.conf:2: key 'batch_archives_slices_sec': MAX (10) shorter "
            "than IDLE (60)");
  a = ApplyServerText("batch_archives_slices_sec 60 0\n");  // 0: no maximum
  EXPECT_TRUE(a.ok) << a.error;
  a = ApplyServerText("batch_archives_slices_sec 60 60\n");
  EXPECT_TRUE(a.ok) << a.error;
}

TEST(PolicyCheckTest, HalfConfiguredReportingIsAWarningAndOff) {
  Applied a = ApplyServerText("port 1\nreporting_dir .reports\n");
  EXPECT_TRUE(a.ok) << a.error;
  EXPECT_EQ(a.warnings, (std::vector<std::string>{
                            "/etc/c.conf:2: key 'reporting_dir': reporting "
                            "needs both reporting_dir and reporting_hint; "
                            "reporting off"}));
  EXPECT_EQ(a.settings.reporting_dir, "");
  a = ApplyServerText("reporting_hint job\n");
  EXPECT_EQ(a.warnings, (std::vector<std::string>{
                            "/etc/c.conf:1: key 'reporting_hint': reporting "
                            "needs both reporting_dir and reporting_hint; "
                            "reporting off"}));
  EXPECT_EQ(a.settings.reporting_hint, "");
}

// reporting_dir is joined to the mount point.
TEST(PolicyCheckTest, ReportingDirOutsideTheMountIsAnError) {
  Applied a = ApplyServerText("reporting_hint job\nreporting_dir /var/rep\n");
  EXPECT_FALSE(a.ok);
  EXPECT_EQ(a.error,
            "/etc/c.conf:2: key 'reporting_dir': '/var/rep' must be relative "
            "to the mount point, without '..'");
  for (const char* dir : {"..", "a/../b", "a/..", "../a"}) {
    a = ApplyServerText(std::string("reporting_dir ") + dir + "\n");
    EXPECT_FALSE(a.ok) << dir;
    EXPECT_EQ(a.error, std::string("/etc/c.conf:1: key 'reporting_dir': '") +
                           dir +
                           "' must be relative to the mount point, without "
                           "'..'");
  }
  a = ApplyServerText("reporting_dir a..b/.r\nreporting_hint job\n");
  EXPECT_TRUE(a.ok) << a.error;
  EXPECT_EQ(a.settings.reporting_dir, "a..b/.r");
}

TEST(PolicyCheckTest, StoreNoneWithRedisKeysIsAWarning) {
  Applied a = ApplyServerText("redis_host db\nport 1\nstore none\n");
  EXPECT_TRUE(a.ok) << a.error;
  EXPECT_EQ(a.warnings, (std::vector<std::string>{
                            "/etc/c.conf:3: key 'store': store none keeps "
                            "nothing: the redis_* keys (line 1) are "
                            "ignored"}));
  a = ApplyServerText("store none\n");
  EXPECT_TRUE(a.warnings.empty());
}

TEST(ClientSettingsTest, ReadsClientKeysAndSkipsServerOnes) {
  ClientSettings s;
  std::vector<std::string> warnings;
  std::string error;
  ASSERT_TRUE(ApplyClientFile(
      ParseConfigText("c",
                      "client_id mover7\nmax_archive 4\nhal_size 64k\n"
                      "archive_on_hosts t h\nredis_port 1\n"
                      "movers m1\nfair_share_by uid\n"),
      &s, &warnings, &error))
      << error;
  EXPECT_EQ(s.client_id, "mover7");
  EXPECT_EQ(s.max_archive, 4u);
  EXPECT_EQ(s.max_restore, kUnlimited);
  EXPECT_EQ(s.hal_size, 65536u);
  EXPECT_TRUE(warnings.empty());
  ASSERT_TRUE(
      ApplyClientEnv(FakeEnv({{"COORDINATOOL_MAX_RESTORE", "2"}}), &s, &error));
  EXPECT_EQ(s.max_restore, 2u);
  EXPECT_FALSE(
      ApplyClientEnv(FakeEnv({{"COORDINATOOL_HAL_SIZE", "big"}}), &s, &error));
  EXPECT_EQ(error, "COORDINATOOL_HAL_SIZE: 'big' is not a size");
}

TEST(ClientSettingsTest, TlsKeys) {
  ClientSettings s;
  std::vector<std::string> warnings;
  std::string error;
  EXPECT_FALSE(s.tls());
  ASSERT_TRUE(ApplyClientFile(
      ParseConfigText("c",
                      "client_tls_ca /etc/coordinatool/ca.pem\n"
                      "client_tls_cert /etc/coordinatool/mover.pem\n"
                      "client_tls_key /etc/coordinatool/mover.key\n"
                      "client_tls_server_name cdt.example\n"),
      &s, &warnings, &error))
      << error;
  EXPECT_TRUE(warnings.empty());
  EXPECT_TRUE(s.tls());  // a CA turns it on
  EXPECT_FALSE(s.client_tls);
  EXPECT_EQ(s.client_tls_ca, "/etc/coordinatool/ca.pem");
  EXPECT_EQ(s.client_tls_cert, "/etc/coordinatool/mover.pem");
  EXPECT_EQ(s.client_tls_key, "/etc/coordinatool/mover.key");
  EXPECT_EQ(s.client_tls_server_name, "cdt.example");

  ClientSettings plain;
  ASSERT_TRUE(ApplyClientEnv(FakeEnv({{"COORDINATOOL_CLIENT_TLS", "Yes"}}),
                             &plain, &error))
      << error;
  EXPECT_TRUE(plain.tls());
  ASSERT_TRUE(ApplyClientEnv(FakeEnv({{"COORDINATOOL_CLIENT_TLS", "off"}}),
                             &plain, &error));
  EXPECT_FALSE(plain.tls());
  EXPECT_FALSE(ApplyClientFile(ParseConfigText("c", "client_tls maybe\n"),
                               &plain, &warnings, &error));
  EXPECT_EQ(error, "c:1: key 'client_tls': 'maybe' is not one of yes, no");
  EXPECT_FALSE(plain.client_tls);
}

TEST(ConfigPathTest, CommandLineThenEnvironmentThenDefault) {
  auto env = FakeEnv({{"COORDINATOOL_CONF", "/env.conf"}});
  EXPECT_EQ(ResolveConfigPath("/cli.conf", env).path, "/cli.conf");
  EXPECT_TRUE(ResolveConfigPath("/cli.conf", env).required);
  EXPECT_EQ(ResolveConfigPath("", env).path, "/env.conf");
  ConfigPath fallback = ResolveConfigPath("", FakeEnv({}));
  EXPECT_EQ(fallback.path, "/etc/coordinatool.conf");
  EXPECT_FALSE(fallback.required);
}

}  // namespace
}  // namespace config

namespace config {
namespace {

TEST(LoadSettingsTest, FileThenEnvironmentAndErrorsNameTheLine) {
  char path[] = "/tmp/coordinatool-conf-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  std::string text = "port 7000\nclient_grace_ms 10\nmax_archive 3\n";
  ASSERT_EQ(write(fd, text.data(), text.size()), ssize_t(text.size()));
  close(fd);
  ServerSettings server;
  ClientSettings client;
  std::vector<std::string> warnings;
  std::string error;
  auto env = FakeEnv({{"COORDINATOOL_PORT", "7001"}});
  ASSERT_TRUE(LoadServerSettings(path, env, &server, &warnings, &error))
      << error;
  EXPECT_EQ(server.port, "7001");
  EXPECT_EQ(server.client_grace_ms, 10);
  ASSERT_TRUE(LoadClientSettings(path, env, &client, &warnings, &error))
      << error;
  EXPECT_EQ(client.max_archive, 3u);
  EXPECT_TRUE(warnings.empty());

  text = "port 7000\nredis_port many\n";
  FILE* f = fopen(path, "w");
  fputs(text.c_str(), f);
  fclose(f);
  EXPECT_FALSE(LoadServerSettings(path, env, &server, &warnings, &error));
  EXPECT_EQ(error,
            std::string(path) +
                ":2: key 'redis_port': 'many' is not an integer in 1..65535");
  unlink(path);

  EXPECT_FALSE(LoadServerSettings(path, env, &server, &warnings, &error));
  EXPECT_EQ(error, std::string(path) + ": No such file or directory");
  // The default file may be missing.
  EXPECT_TRUE(LoadServerSettings("", FakeEnv({{"COORDINATOOL_CONF", ""}}),
                                 &server, &warnings, &error) ||
              access(kDefaultConfigPath, F_OK) == 0);
}

// Blocking restores first: a share in percent, 0..99 (99: bulk restores
// still get one in a hundred), default 90.
TEST(ConfigTest, RestoreBlockingShare) {
  ServerSettings s;
  EXPECT_EQ(s.restore_blocking_share, 90u);
  std::vector<std::string> warnings;
  std::string error;
  ASSERT_TRUE(
      ApplyServerFile(ParseConfigText("c", "restore_blocking_share 75\n"), &s,
                      &warnings, &error))
      << error;
  EXPECT_EQ(s.restore_blocking_share, 75u);
  EXPECT_FALSE(
      ApplyServerFile(ParseConfigText("c", "\nrestore_blocking_share 100\n"),
                      &s, &warnings, &error));
  EXPECT_EQ(error,
            "c:2: key 'restore_blocking_share': '100' is not an integer in "
            "0..99");
  EXPECT_EQ(s.restore_blocking_share, 75u);  // unchanged
}

// Per-owner limits count by the fair-share owner: without one it is an
// error naming the line.
TEST(PolicyCheckTest, MaxRunningRestoresPerOwnerNeedsAnOwner) {
  Applied a = ApplyServerText("port 1\nmax_running_restores_per_owner 4\n");
  EXPECT_FALSE(a.ok);
  EXPECT_EQ(a.error,
            "/etc/c.conf:2: key 'max_running_restores_per_owner': "
            "max_running_restores_per_owner without fair_share_tag or "
            "fair_share_by");
  a = ApplyServerText("fair_share_by uid\nmax_running_restores_per_owner 4\n");
  ASSERT_TRUE(a.ok) << a.error;
  EXPECT_EQ(a.settings.max_running_restores_per_owner, 4u);
  a = ApplyServerText("max_running_restores_per_owner 0\n");
  EXPECT_TRUE(a.ok) << a.error;
  a = ApplyServerText(
      "fair_share_tag user=\nmax_running_restores_per_owner -1\n");
  EXPECT_FALSE(a.ok);
}

// The cap of queued restores per owner: off by default, counted by the
// fair-share owner too.
TEST(PolicyCheckTest, MaxQueuedRestoresPerOwnerNeedsAnOwner) {
  Applied a = ApplyServerText("port 1\n\nmax_queued_restores_per_owner 100\n");
  EXPECT_FALSE(a.ok);
  EXPECT_EQ(a.error,
            "/etc/c.conf:3: key 'max_queued_restores_per_owner': "
            "max_queued_restores_per_owner without fair_share_tag or "
            "fair_share_by");
  a = ApplyServerText("port 1\n");
  ASSERT_TRUE(a.ok) << a.error;
  EXPECT_EQ(a.settings.max_queued_restores_per_owner, 0u);
  a = ApplyServerText(
      "fair_share_tag user=\nmax_queued_restores_per_owner 100\n");
  ASSERT_TRUE(a.ok) << a.error;
  EXPECT_EQ(a.settings.max_queued_restores_per_owner, 100u);
  a = ApplyServerText("fair_share_by gid\nmax_queued_restores_per_owner x\n");
  EXPECT_FALSE(a.ok);
  EXPECT_NE(a.error.find("/etc/c.conf:2:"), std::string::npos) << a.error;
}

TEST(PolicyCheckTest, RestoreSlicesAndMediaPerMoverAreChecked) {
  Applied a = ApplyServerText("");
  EXPECT_FALSE(a.settings.tape_order());
  EXPECT_EQ(a.settings.restore_media_per_mover, 1u);
  a = ApplyServerText(
      "batch_restores_slices_sec 30 600\nrestore_media_per_mover 2\n");
  ASSERT_TRUE(a.ok) << a.error;
  EXPECT_TRUE(a.settings.tape_order());
  EXPECT_EQ(a.settings.restore_slice_idle_sec, 30u);
  EXPECT_EQ(a.settings.restore_slice_max_sec, 600u);
  EXPECT_EQ(a.settings.restore_media_per_mover, 2u);
  a = ApplyServerText("batch_restores_slices_sec 30\n");
  ASSERT_TRUE(a.ok) << a.error;
  EXPECT_EQ(a.settings.restore_slice_max_sec, 0u);  // no maximum
  a = ApplyServerText("\nbatch_restores_slices_sec 60 10\n");
  EXPECT_FALSE(a.ok);
  EXPECT_EQ(a.error,
            "/etc/c.conf:2: key 'batch_restores_slices_sec': MAX (10) shorter "
            "than IDLE (60)");
  a = ApplyServerText("batch_restores_slices_sec ten\n");
  EXPECT_FALSE(a.ok);
  EXPECT_EQ(a.error,
            "/etc/c.conf:1: key 'batch_restores_slices_sec': expected IDLE "
            "[MAX] in seconds");
  a = ApplyServerText("port 1\nrestore_media_per_mover 0\n");
  EXPECT_FALSE(a.ok);
  EXPECT_NE(a.error.find("/etc/c.conf:2: key 'restore_media_per_mover'"),
            std::string::npos)
      << a.error;
}

TEST(RetrySettingsTest, RetryMaxAttemptsDefaultsToThreeAndIsChecked) {
  ServerSettings s;
  EXPECT_EQ(s.retry_max_attempts, 3u);
  std::vector<std::string> warnings;
  std::string error;
  ASSERT_TRUE(ApplyServerFile(ParseConfigText("c", "retry_max_attempts 5\n"),
                              &s, &warnings, &error))
      << error;
  EXPECT_EQ(s.retry_max_attempts, 5u);
  ServerSettings bad;
  EXPECT_FALSE(
      ApplyServerFile(ParseConfigText("c", "port 1\nretry_max_attempts 0\n"),
                      &bad, &warnings, &error));
  EXPECT_EQ(error,
            "c:2: key 'retry_max_attempts': '0' is not an integer in 1..1000");
  EXPECT_EQ(bad.retry_max_attempts, 3u);
}

TEST(RetrySettingsTest, RetryErrorsByNameOrNumberPerAction) {
  ClientSettings s;
  std::vector<std::string> warnings;
  std::string error;
  ASSERT_TRUE(
      ApplyClientFile(ParseConfigText("c",
                                      "retry_errors archive EIO ETIMEDOUT 28\n"
                                      "retry_errors remove EIO\n"
                                      "retry_errors archive EIO ENOSPC\n"),
                      &s, &warnings, &error))
      << error;
  EXPECT_EQ(s.retry_errors_archive, (std::vector<int>{EIO, ETIMEDOUT, ENOSPC}));
  EXPECT_EQ(s.retry_errors_remove, (std::vector<int>{EIO}));
  EXPECT_TRUE(warnings.empty());
  // The environment replaces the lists it names.
  ASSERT_TRUE(ApplyClientEnv(
      FakeEnv({{"COORDINATOOL_RETRY_ERRORS", "archive EAGAIN ; "}}), &s,
      &error))
      << error;
  EXPECT_EQ(s.retry_errors_archive, (std::vector<int>{EAGAIN}));
  EXPECT_EQ(s.retry_errors_remove, (std::vector<int>{EIO}));
  ASSERT_TRUE(ApplyClientEnv(
      FakeEnv({{"COORDINATOOL_RETRY_ERRORS", "archive EIO;remove ENOSPC"}}), &s,
      &error))
      << error;
  EXPECT_EQ(s.retry_errors_archive, (std::vector<int>{EIO}));
  EXPECT_EQ(s.retry_errors_remove, (std::vector<int>{ENOSPC}));
  // The server's reading of the same file skips the key.
  ServerSettings server;
  ASSERT_TRUE(
      ApplyServerFile(ParseConfigText("c", "retry_errors archive EIO\n"),
                      &server, &warnings, &error))
      << error;
  EXPECT_TRUE(warnings.empty());
}

TEST(RetrySettingsTest, BadRetryErrorsNameTheLineAndChangeNothing) {
  const std::pair<const char*, std::string> cases[] = {
      {"retry_errors archive\n",
       "c:2: key 'retry_errors': expected ACTION ERRNO... (e.g. archive EIO "
       "ETIMEDOUT)"},
      {"retry_errors copy EIO\n",
       "c:2: key 'retry_errors': unknown action 'copy': expected archive or "
       "remove"},
      {"retry_errors archive EIO EWHAT\n",
       "c:2: key 'retry_errors': 'EWHAT' is not an errno name or number"},
      {"retry_errors archive 0\n",
       "c:2: key 'retry_errors': '0' is not an errno name or number"},
      {"retry_errors remove ECANCELED\n",
       "c:2: key 'retry_errors': ECANCELED cannot be retried: Lustre reads it "
       "as the end of a cancel"},
      {"retry_errors restore EIO\n",
       "c:2: key 'retry_errors': restores cannot be retried: Lustre sends a "
       "retried restore again bound to the failed copy's volatile file, and "
       "refuses the next copy's end (docs/policies.md, Retries)"},
  };
  for (const auto& [line, want] : cases) {
    ClientSettings s;
    std::vector<std::string> warnings;
    std::string error;
    EXPECT_FALSE(ApplyClientFile(
        ParseConfigText("c", std::string("retry_errors archive EIO\n") + line),
        &s, &warnings, &error))
        << line;
    EXPECT_EQ(error, want) << line;
  }
  ClientSettings s;
  std::string error;
  EXPECT_FALSE(ApplyClientEnv(
      FakeEnv({{"COORDINATOOL_RETRY_ERRORS", "archive EIO; remove EBAD"}}), &s,
      &error));
  EXPECT_EQ(error,
            "COORDINATOOL_RETRY_ERRORS: 'EBAD' is not an errno name or number");
  EXPECT_TRUE(s.retry_errors_archive.empty());  // nothing applied
}

}  // namespace
}  // namespace config
