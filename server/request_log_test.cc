#include "server/request_log.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <memory>
#include <sstream>

#include "hsm/fid.h"

namespace server {
namespace {

hsm_action_item LoggedItem(uint32_t action, uint64_t cookie, lu_fid dfid) {
  hsm_action_item hai{};
  hai.hai_action = action;
  hai.hai_cookie = cookie;
  hai.hai_fid = {0x200000401, 99, 0};
  hai.hai_dfid = dfid;
  return hai;
}

// The shape docs/operations.md documents: grep-able by FID in Lustre's
// form, by cookie and by event.
TEST(RequestLogTest, FixedShape) {
  const hsm_action_item hai =
      LoggedItem(HSMA_ARCHIVE, 0x5f, {0x200000401, 0x1, 0});
  EXPECT_EQ(FormatRequestEvent(RequestEvent::kSent, hai, "mover=m1"),
            "request sent [0x200000401:0x1:0x0] cookie=0x5f action=ARCHIVE "
            "mover=m1");
  EXPECT_EQ(FormatRequestEvent(
                RequestEvent::kReceived,
                LoggedItem(HSMA_RESTORE, 1, {0x200000402, 0x2, 1}), ""),
            "request received [0x200000402:0x2:0x1] cookie=0x1 "
            "action=RESTORE");
  EXPECT_EQ(FormatRequestEvent(RequestEvent::kDone,
                               LoggedItem(HSMA_REMOVE, 0xffffffffffffffff,
                                          {0xffffffffffffffff, 0xffffffff, 7}),
                               "mover=m2 status=2 duration_ms=15"),
            "request done [0xffffffffffffffff:0xffffffff:0x7] "
            "cookie=0xffffffffffffffff action=REMOVE mover=m2 status=2 "
            "duration_ms=15");
  // The FID exactly as Lustre prints it, zero sequence included.
  const lu_fid zero{0, 0, 0};
  EXPECT_NE(FormatRequestEvent(RequestEvent::kDropped,
                               LoggedItem(HSMA_ARCHIVE, 2, zero), "")
                .find(" " + hsm::FormatFid(zero) + " "),
            std::string::npos);
}

// The head is written by hand: the same text as fmt's formatting of
// Lustre's DFID form, for every event and extreme values.
TEST(RequestLogTest, HeadAsFormatted) {
  const lu_fid fids[] = {{0, 0, 0},
                         {0x200000401, 0x1, 0},
                         {0xffffffffffffffff, 0xffffffff, 0xffffffff},
                         {0x10, 0xabcdef, 0x9}};
  const uint64_t cookies[] = {0, 1, 0x5f, 0xffffffffffffffff};
  const uint32_t actions[] = {HSMA_ARCHIVE, HSMA_RESTORE, HSMA_REMOVE,
                              HSMA_CANCEL, 77};
  for (int event = 0; event <= static_cast<int>(RequestEvent::kRetry); ++event)
    for (const lu_fid& fid : fids)
      for (uint64_t cookie : cookies)
        for (uint32_t action : actions) {
          const hsm_action_item hai = LoggedItem(action, cookie, fid);
          fmt::memory_buffer line;
          AppendRequestEventHead(&line, static_cast<RequestEvent>(event), hai);
          EXPECT_EQ(
              fmt::to_string(line),
              fmt::format("request {} {} cookie={:#x} action={}",
                          RequestEventName(static_cast<RequestEvent>(event)),
                          hsm::FormatFid(fid), cookie,
                          hsm_copytool_action2name(
                              static_cast<hsm_copytool_action>(action))));
        }
}

TEST(RequestLogTest, EveryEventHasItsName) {
  EXPECT_STREQ(RequestEventName(RequestEvent::kPlaced), "placed");
  EXPECT_STREQ(RequestEventName(RequestEvent::kCancelled), "cancelled");
  EXPECT_STREQ(RequestEventName(RequestEvent::kDropped), "dropped");
}

// At warning, nothing is logged (nor formatted: the cost on the hot path
// is one level check).
TEST(RequestLogTest, NothingFormattedBelowInfo) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  auto logger = std::make_shared<spdlog::logger>("request_log_test", sink);
  logger->set_pattern("%v");
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(logger);
  const hsm_action_item hai = LoggedItem(HSMA_ARCHIVE, 3, {0x200000401, 3, 0});
  logger->set_level(spdlog::level::warn);
  EXPECT_FALSE(RequestEventsLogged());
  LogRequestEvent(RequestEvent::kSent, hai, "mover={}", std::string("m0"));
  logger->set_level(spdlog::level::info);
  LogRequestEvent(RequestEvent::kSent, hai, "mover={}", std::string("m1"));
  spdlog::set_default_logger(previous);
  EXPECT_EQ(out.str(),
            "request sent [0x200000401:0x3:0x0] cookie=0x3 action=ARCHIVE "
            "mover=m1\n");
}

// The sent and done lines are written by hand: the same text as the
// formatted details give, stamped with the time given, and nothing below
// info.
TEST(RequestLogTest, SentAndDoneLinesAsFormatted) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  auto logger = std::make_shared<spdlog::logger>("request_log_test", sink);
  logger->set_pattern("%E %v");  // seconds since the epoch, then the line
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(logger);
  const hsm_action_item hai =
      LoggedItem(HSMA_RESTORE, 0x1f, {0x200000401, 0x1f, 0});
  const int64_t t = int64_t{1'700'000'123} * 1'000'000'000 + 5;
  const int64_t values[] = {0, 1, -2, INT64_MAX, INT64_MIN, 1234567};
  std::string expected;
  for (int64_t status : values)
    for (int64_t duration : values)
      for (bool retry : {false, true}) {
        LogDoneEventAt(t, hai, "m-1", status, duration, retry);
        expected += fmt::format(
            "1700000123 {}\n",
            FormatRequestEvent(
                RequestEvent::kDone, hai,
                fmt::format("mover={} status={} duration_ms={}{}", "m-1",
                            status, duration, retry ? " retry=yes" : "")));
      }
  LogSentEventAt(t, hai, "mover.example:1");
  expected +=
      "1700000123 " +
      FormatRequestEvent(RequestEvent::kSent, hai, "mover=mover.example:1") +
      "\n";
  logger->set_level(spdlog::level::warn);
  LogSentEventAt(t, hai, "quiet");
  LogDoneEventAt(t, hai, "quiet", 0, 0, false);
  spdlog::set_default_logger(previous);
  EXPECT_EQ(out.str(), expected);
}

}  // namespace
}  // namespace server
