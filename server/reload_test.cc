// PlanReload: which changes of a new reading of the configuration a running
// server applies, which it keeps until a restart, and how both are worded.
#include "server/reload.h"

#include <gtest/gtest.h>

#include <string>

#include "config/settings_table.h"

namespace server {
namespace {

using config::ServerSettings;

std::vector<std::string> Keys(const ReloadPlan& plan, bool applied) {
  std::vector<std::string> keys;
  if (applied)
    for (const AppliedChange& a : plan.applied) keys.push_back(a.key);
  else
    for (const KeptChange& k : plan.kept) keys.push_back(k.key);
  return keys;
}

using Keys_ = std::vector<std::string>;

// A new key in the settings table must be classified for reload.
TEST(ReloadTest, EveryServerKeyIsClassified) {
  for (const config::ServerSetting& row : config::ServerSettingTable())
    EXPECT_TRUE(ReloadKnows(row.key)) << row.key;
  EXPECT_FALSE(ReloadKnows("no_such_key"));
}

TEST(ReloadTest, SameSettingsChangeNothing) {
  ServerSettings s;
  s.movers = {"m1"};
  s.mover_lines = {3};
  ReloadPlan plan = PlanReload(s, s);
  EXPECT_TRUE(plan.applied.empty());
  EXPECT_TRUE(plan.kept.empty());
  EXPECT_EQ(KeptWarning(plan.kept), "");
  EXPECT_EQ(AppliedSummary(plan.applied), "reload: no setting to change");
}

TEST(ReloadTest, LiveKeysAreApplied) {
  ServerSettings running, read;
  read.verbose = 6;
  read.max_connections = 10;
  read.handshake_timeout_ms = 1000;
  read.archive_max_wait_sec = 60;
  read.reporting_schedule_interval_ms = 5000;
  read.queue_check_lustre = false;
  read.archive_on_hosts = {{"p=", {"m1", "m2"}, 4}};
  ReloadPlan plan = PlanReload(running, read);
  EXPECT_EQ(Keys(plan, true),
            (Keys_{"verbose", "max_connections", "handshake_timeout_ms",
                   "queue_check_lustre", "archive_on_hosts",
                   "reporting_schedule_interval_ms", "archive_max_wait_sec"}));
  EXPECT_TRUE(plan.kept.empty());
  EXPECT_EQ(plan.settings.verbose, 6);
  EXPECT_EQ(plan.settings.max_connections, 10);
  EXPECT_EQ(plan.settings.handshake_timeout_ms, 1000);
  EXPECT_EQ(plan.settings.archive_max_wait_sec, 60u);
  EXPECT_EQ(plan.settings.reporting_schedule_interval_ms, 5000);
  EXPECT_FALSE(plan.settings.queue_check_lustre);
  ASSERT_EQ(plan.settings.archive_on_hosts.size(), 1u);
  EXPECT_TRUE(AppliedSummary(plan.applied)
                  .starts_with("reload: applied verbose normal -> debug, "
                               "max_connections 0 -> 10, "))
      << AppliedSummary(plan.applied);
}

TEST(ReloadTest, RestartKeysAreKeptAndReported) {
  ServerSettings running, read;
  running.port = "5123";
  read.port = "5124";
  read.store = config::StoreKind::kNone;
  read.state_dir = "/tmp/elsewhere";
  read.archive_ids = {2, 3};
  read.host = "0.0.0.0";
  read.verbose = 5;  // live, applied with the rest kept
  ReloadPlan plan = PlanReload(running, read);
  EXPECT_EQ(Keys(plan, false),
            (Keys_{"host", "port", "archive_id", "store", "state_dir"}));
  EXPECT_EQ(Keys(plan, true), Keys_{"verbose"});
  EXPECT_EQ(plan.settings.port, "5123");
  EXPECT_EQ(plan.settings.store, config::StoreKind::kAuto);
  EXPECT_EQ(plan.settings.state_dir, "");
  EXPECT_TRUE(plan.settings.archive_ids.empty());
  EXPECT_EQ(plan.settings.host, "coordinatool");
  EXPECT_EQ(plan.settings.verbose, 5);
  EXPECT_EQ(KeptWarning(plan.kept),
            "reload: these keys change only at a restart, kept: host "
            "coordinatool (configuration says 0.0.0.0), port 5123 "
            "(configuration says 5124), archive_id (none) (configuration "
            "says 2 3), store auto (configuration says none), state_dir "
            "(none) (configuration says /tmp/elsewhere)");
}

TEST(ReloadTest, RedisKeysAreKeptAndThePasswordNeverShown) {
  ServerSettings running, read;
  running.redis_password = "old-secret";
  read.redis_password = "new-secret";
  read.redis_port = 6380;
  read.redis_configured = true;
  ReloadPlan plan = PlanReload(running, read);
  EXPECT_EQ(Keys(plan, false),
            (Keys_{"redis_host", "redis_port", "redis_password"}));
  EXPECT_EQ(plan.settings.redis_password, "old-secret");
  EXPECT_EQ(plan.settings.redis_port, 6379);
  std::string warning = KeptWarning(plan.kept);
  EXPECT_EQ(warning.find("secret"), std::string::npos) << warning;
  EXPECT_NE(warning.find("redis_password (hidden)"), std::string::npos)
      << warning;
}

TEST(ReloadTest, BatchTimesChangeLiveOnlyWhileBatchingStaysOnOrOff) {
  ServerSettings running, read;
  running.batch_idle_sec = 10;
  read.batch_idle_sec = 20;
  read.batch_max_sec = 60;
  ReloadPlan plan = PlanReload(running, read);
  EXPECT_EQ(Keys(plan, true), Keys_{"batch_archives_slices_sec"});
  EXPECT_EQ(plan.settings.batch_idle_sec, 20u);
  EXPECT_EQ(plan.settings.batch_max_sec, 60u);

  // Turning batching off (or on) regroups waiting archives: a restart.
  read.batch_idle_sec = 0;
  read.batch_max_sec = 0;
  plan = PlanReload(running, read);
  EXPECT_EQ(Keys(plan, false), Keys_{"batch_archives_slices_sec"});
  EXPECT_EQ(plan.settings.batch_idle_sec, 10u);
  plan = PlanReload(read, running);
  EXPECT_EQ(Keys(plan, false), Keys_{"batch_archives_slices_sec"});
  EXPECT_FALSE(plan.settings.batching());

  // A slot may hold a hint: their number changes at a restart only.
  read = running;
  read.batch_slots_per_client = 4;
  plan = PlanReload(running, read);
  EXPECT_EQ(Keys(plan, false), Keys_{"batch_archives_slots_per_client"});
  EXPECT_EQ(plan.settings.batch_slots_per_client, 1u);
}

TEST(ReloadTest, FairShareWeightsChangeLiveUnderTheRunningFairShare) {
  ServerSettings running, read;
  running.fair_share_tag = read.fair_share_tag = "user=";
  running.fair_share_weights = {{"alice", 1}};
  read.fair_share_weights = {{"alice", 3}, {"bob", 2}};
  ReloadPlan plan = PlanReload(running, read);
  EXPECT_EQ(Keys(plan, true), Keys_{"fair_share_weight"});
  EXPECT_EQ(plan.settings.fair_share_weights, read.fair_share_weights);
  EXPECT_EQ(plan.applied[0].from, "alice 1");
  EXPECT_EQ(plan.applied[0].to, "alice 3; bob 2");

  // Another tag groups waiting restores otherwise: kept, and the weights
  // meant for it with it.
  read.fair_share_tag = "project=";
  plan = PlanReload(running, read);
  EXPECT_EQ(Keys(plan, false), Keys_{"fair_share_tag"});
  EXPECT_EQ(plan.settings.fair_share_tag, "user=");

  // Weights for a fair share the server does not run: kept.
  ServerSettings off;
  read = off;
  read.fair_share_by = config::FairShareBy::kUid;
  read.fair_share_weights = {{"0", 2}};
  plan = PlanReload(off, read);
  EXPECT_EQ(Keys(plan, false), (Keys_{"fair_share_by", "fair_share_weight"}));
  EXPECT_TRUE(plan.settings.fair_share_weights.empty());
}

TEST(ReloadTest, RulesMovedInTheFileAreNoChange) {
  ServerSettings running, read;
  running.movers = {"m1", "m2"};
  running.mover_lines = {1, 1};
  running.archive_on_hosts = {{"p=", {"m1"}, 2}};
  read = running;
  read.mover_lines = {5, 5};
  read.archive_on_hosts[0].line = 6;
  ReloadPlan plan = PlanReload(running, read);
  EXPECT_TRUE(plan.applied.empty());
  EXPECT_TRUE(plan.kept.empty());
  // The lines of the new reading, for later messages.
  EXPECT_EQ(plan.settings.mover_lines, (std::vector<int>{5, 5}));
}

TEST(ReloadTest, LocalityHelperAndReportFilesNeedARestart) {
  ServerSettings running, read;
  read.restore_locality_command = {"/usr/bin/locate", "-x"};
  read.restore_locality_timeout_ms = 100;
  read.reporting_dir = "reports";
  read.reporting_hint = "job";
  read.auth_file = "/etc/coordinatool.auth";
  read.tls_cert = "/etc/cert.pem";
  ReloadPlan plan = PlanReload(running, read);
  EXPECT_EQ(Keys(plan, false),
            (Keys_{"tls_cert", "reporting_dir", "reporting_hint",
                   "restore_locality_command", "restore_locality_timeout_ms",
                   "auth_file"}));
  EXPECT_TRUE(plan.applied.empty());
  EXPECT_TRUE(plan.settings.restore_locality_command.empty());
  EXPECT_EQ(plan.settings.auth_file, "");
}

TEST(ReloadTest, LogLevels) {
  EXPECT_EQ(LogLevelFor(0), spdlog::level::off);
  EXPECT_EQ(LogLevelFor(3), spdlog::level::warn);
  EXPECT_EQ(LogLevelFor(4), spdlog::level::info);
  EXPECT_EQ(LogLevelFor(5), spdlog::level::debug);
  EXPECT_EQ(LogLevelFor(6), spdlog::level::trace);
}

}  // namespace
}  // namespace server
