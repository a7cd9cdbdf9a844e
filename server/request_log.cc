#include "server/request_log.h"

#include <chrono>
#include <cstring>
#include <iterator>
#include <string_view>

#include "hsm/fid.h"
#include "server/log_sink.h"
#include "server/placement.h"

namespace server {

namespace {

struct OwnLog {
  std::shared_ptr<spdlog::logger> logger;
  // The logger's one sink when it is the server's BufferedFdSink holding
  // this logger's lines: the lines go straight to it (HoldLine).
  BufferedFdSink* sink = nullptr;
};

OwnLog& Own() {
  static auto* own = new OwnLog;
  return *own;
}

// Logs `text` at info on the request logger, stamped `time`: straight
// into the sink's held buffer when it can take it, else through spdlog.
// The logger's own path adds nothing the sink's way in lacks unless it
// flushes on info lines (flush_on), so then it is taken.
void LogRequestText(std::string_view text, spdlog::log_clock::time_point time) {
  const OwnLog& own = Own();
  if (own.sink != nullptr && own.logger->flush_level() > spdlog::level::info &&
      own.sink->HoldLine(time, text))
    return;
  RequestLogger()->log(time, spdlog::source_loc{}, spdlog::level::info,
                       spdlog::string_view_t(text.data(), text.size()));
}

}  // namespace

void SetRequestLogger(std::shared_ptr<spdlog::logger> logger) {
  OwnLog& own = Own();
  own.sink = nullptr;
  if (logger && logger->sinks().size() == 1) {
    auto* sink = dynamic_cast<BufferedFdSink*>(logger->sinks().front().get());
    if (sink != nullptr && sink->held_logger() == logger->name())
      own.sink = sink;
  }
  own.logger = std::move(logger);
}

spdlog::logger* RequestLogger() {
  const auto& own = Own().logger;
  return own ? own.get() : spdlog::default_logger_raw();
}

const char* RequestEventName(RequestEvent event) {
  switch (event) {
    case RequestEvent::kReceived:
      return "received";
    case RequestEvent::kPlaced:
      return "placed";
    case RequestEvent::kSent:
      return "sent";
    case RequestEvent::kDone:
      return "done";
    case RequestEvent::kDropped:
      return "dropped";
    case RequestEvent::kCancelled:
      return "cancelled";
    case RequestEvent::kRetry:
      return "retry";
  }
  return "?";
}

namespace {

// Appends `value` in lowercase hex without a prefix at `out` (0 is "0");
// returns the end.
char* PutHex(char* out, uint64_t value) {
  char digits[16];
  char* start = digits + sizeof digits;
  do {
    *--start = "0123456789abcdef"[value & 0xf];
    value >>= 4;
  } while (value != 0);
  const size_t n = static_cast<size_t>(digits + sizeof digits - start);
  std::memcpy(out, start, n);
  return out + n;
}

char* Put(char* out, std::string_view text) {
  std::memcpy(out, text.data(), text.size());
  return out + text.size();
}

}  // namespace

void AppendRequestEventHead(fmt::memory_buffer* line, RequestEvent event,
                            const hsm_action_item& hai) {
  // Copies: the item's fields are packed.
  const lu_fid dfid = hai.hai_dfid;
  const uint64_t cookie = hai.hai_cookie;
  const auto action = static_cast<hsm_copytool_action>(hai.hai_action);
  const std::string_view event_name = RequestEventName(event);
  const std::string_view action_name = hsm_copytool_action2name(action);
  // "request EVENT [SEQ:0xOID:0xVER] cookie=0xCOOKIE action=ACTION", the
  // FID exactly as Lustre's DFID prints it ("[0x200000401:0x1:0x0]";
  // printf's %#llx writes a zero sequence as "0"), as hsm::FormatFid does.
  // Written by hand into one stack buffer: this head starts every request
  // line, several per request, and fmt's general path cost more than the
  // rest of the line (request_log_test compares both).
  char head[128];
  if (event_name.size() + action_name.size() + 90 > sizeof head) {
    fmt::format_to(std::back_inserter(*line),
                   "request {} [{}{:x}:{:#x}:{:#x}] cookie={:#x} action={}",
                   event_name, dfid.f_seq != 0 ? "0x" : "", dfid.f_seq,
                   dfid.f_oid, dfid.f_ver, cookie, action_name);
    return;
  }
  char* p = Put(head, "request ");
  p = Put(p, event_name);
  p = Put(p, dfid.f_seq != 0 ? " [0x" : " [");
  p = PutHex(p, dfid.f_seq);
  p = PutHex(Put(p, ":0x"), dfid.f_oid);
  p = PutHex(Put(p, ":0x"), dfid.f_ver);
  p = PutHex(Put(p, "] cookie=0x"), cookie);
  p = Put(Put(p, " action="), action_name);
  line->append(head, p);
}

fmt::memory_buffer& RequestLineBuffer() {
  thread_local fmt::memory_buffer line;
  return line;
}

void LogRequestLine(const fmt::memory_buffer& line) {
  LogRequestText(std::string_view(line.data(), line.size()),
                 spdlog::log_clock::now());
}

void LogRequestLine(const fmt::memory_buffer& line, int64_t unix_ns) {
  const spdlog::log_clock::time_point time(
      std::chrono::duration_cast<spdlog::log_clock::duration>(
          std::chrono::nanoseconds(unix_ns)));
  LogRequestText(std::string_view(line.data(), line.size()), time);
}

namespace {

void AppendText(fmt::memory_buffer* line, std::string_view text) {
  line->append(text.data(), text.data() + text.size());
}

void AppendDecimal(fmt::memory_buffer* line, int64_t value) {
  const fmt::format_int text(value);
  line->append(text.data(), text.data() + text.size());
}

// The line's head and " mover=MOVER", in the calling thread's buffer.
fmt::memory_buffer& StartMoverLine(RequestEvent event,
                                   const hsm_action_item& hai,
                                   std::string_view mover) {
  fmt::memory_buffer& line = RequestLineBuffer();
  line.clear();
  AppendRequestEventHead(&line, event, hai);
  AppendText(&line, " mover=");
  AppendText(&line, mover);
  return line;
}

}  // namespace

void LogSentEventAt(int64_t unix_ns, const hsm_action_item& hai,
                    std::string_view mover) {
  if (!RequestEventsLogged()) return;
  LogRequestLine(StartMoverLine(RequestEvent::kSent, hai, mover), unix_ns);
}

void LogDoneEventAt(int64_t unix_ns, const hsm_action_item& hai,
                    std::string_view mover, int64_t status, int64_t duration_ms,
                    bool retry) {
  if (!RequestEventsLogged()) return;
  fmt::memory_buffer& line = StartMoverLine(RequestEvent::kDone, hai, mover);
  AppendText(&line, " status=");
  AppendDecimal(&line, status);
  AppendText(&line, " duration_ms=");
  AppendDecimal(&line, duration_ms);
  if (retry) AppendText(&line, " retry=yes");
  LogRequestLine(line, unix_ns);
}

std::string FormatRequestEvent(RequestEvent event, const hsm_action_item& hai,
                               std::string_view details) {
  fmt::memory_buffer line;
  AppendRequestEventHead(&line, event, hai);
  if (!details.empty()) {
    line.push_back(' ');
    line.append(details.data(), details.data() + details.size());
  }
  return fmt::to_string(line);
}

std::string PlacedDetails(const Item& item, std::string_view why) {
  fmt::memory_buffer out;
  AppendPlacedDetails(&out, item, why);
  return fmt::to_string(out);
}

void LogPlacedEvent(const Item& item, std::string_view why) {
  if (!RequestEventsLogged()) return;
  fmt::memory_buffer& line = RequestLineBuffer();
  line.clear();
  AppendRequestEventHead(&line, RequestEvent::kPlaced, item.hai);
  line.push_back(' ');
  AppendPlacedDetails(&line, item, why);
  LogRequestLine(line);
}

void AppendPlacedDetails(fmt::memory_buffer* out, const Item& item,
                         std::string_view why) {
  auto to = std::back_inserter(*out);
  const bool archive = item.hai.hai_action == HSMA_ARCHIVE;
  if (item.affinity.empty()) {
    fmt::format_to(to, "queue=any");
  } else if (item.affinity == kLocating) {
    fmt::format_to(to, "queue=locating policy=restore_locality_command");
  } else if (item.affinity == kChecking) {
    fmt::format_to(to, "queue=checking");
  } else if (item.affinity.str().starts_with(kOnMedium)) {
    fmt::format_to(to, "queue=medium");  // recalls in tape order
  } else {
    fmt::format_to(to, "queue=mover:{}", item.affinity.str());
    // A new archive tied to a mover: a host rule chose it.
    if (archive && why.empty()) fmt::format_to(to, " policy=host_rule");
  }
  if (!item.group.empty()) {
    if (archive)
      fmt::format_to(to, " batch=yes");  // the group is the batch hint
    else
      fmt::format_to(to, " fair_share_owner={}", item.group);
  }
  if (!why.empty()) fmt::format_to(to, " reason=\"{}\"", why);
}

}  // namespace server
