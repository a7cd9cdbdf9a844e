#include "protocol/upcall.h"

#include <fmt/format.h>
#include <strings.h>

#include <charconv>

#include "hsm/fid.h"
#include "protocol/byte_string.h"
#include "protocol/fields.h"

namespace protocol {

namespace json = boost::json;

namespace {

bool ParseAction(std::string_view text, uint32_t* action) {
  if (text.size() == 7 && strncasecmp(text.data(), "ARCHIVE", 7) == 0) {
    *action = HSMA_ARCHIVE;
    return true;
  }
  if (text.size() == 6 && strncasecmp(text.data(), "REMOVE", 6) == 0) {
    *action = HSMA_REMOVE;
    return true;
  }
  return false;
}

// A FID that may name a file: sequence 0 names none.
bool Sane(const lu_fid& fid) { return fid.f_seq != 0; }

const char* ActionName(uint32_t action) {
  return action == HSMA_REMOVE ? "REMOVE" : "ARCHIVE";
}

template <typename T>
bool ParseNumber(std::string_view text, T* out) {
  if (text.empty()) return false;
  auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

bool CheckArchiveId(int64_t value, std::string* error) {
  if (value < 1 || value >= int64_t{kUpcallArchiveBit}) {
    *error = fmt::format("archive id {} is not in 1 .. {}", value,
                         kUpcallArchiveBit - 1);
    return false;
  }
  return true;
}

}  // namespace

bool ParseUpcallArgs(std::span<const std::string> args, UpcallRequest* out,
                     std::string* error) {
  *out = UpcallRequest();
  if (args.size() < 6) {
    *error = fmt::format(
        "expected ACTION FSNAME ARCHIVE_ID FLAGS DATA FID..., got {} "
        "arguments",
        args.size());
    return false;
  }
  if (!ParseAction(args[0], &out->action)) {
    *error =
        fmt::format("action '{}' is not ARCHIVE or REMOVE", Printable(args[0]));
    return false;
  }
  out->fsname = args[1];
  if (out->fsname.empty() || out->fsname.size() > LUSTRE_MAXFSNAME) {
    *error = fmt::format("bad filesystem name '{}'", Printable(args[1]));
    return false;
  }
  int64_t archive_id = 0;
  if (!ParseNumber(args[2], &archive_id)) {
    *error = fmt::format("archive id '{}' is not a number", Printable(args[2]));
    return false;
  }
  if (!CheckArchiveId(archive_id, error)) return false;
  out->archive_id = static_cast<uint32_t>(archive_id);
  std::string_view flags = args[3];
  int base = 10;
  if (flags.starts_with("0x") || flags.starts_with("0X")) {
    flags.remove_prefix(2);
    base = 16;
  }
  auto [end, ec] = std::from_chars(flags.data(), flags.data() + flags.size(),
                                   out->flags, base);
  if (flags.empty() || ec != std::errc() ||
      end != flags.data() + flags.size()) {
    *error = fmt::format("flags '{}' are not a number", Printable(args[3]));
    return false;
  }
  out->data = args[4];
  if (args.size() - 5 > kMaxUpcallFids) {
    *error =
        fmt::format("{} FIDs, more than {}", args.size() - 5, kMaxUpcallFids);
    return false;
  }
  for (size_t i = 5; i < args.size(); ++i) {
    std::optional<lu_fid> fid = hsm::ParseFid(args[i]);
    if (!fid || !Sane(*fid)) {
      *error = fmt::format("'{}' is not a FID", Printable(args[i]));
      return false;
    }
    out->fids.push_back(*fid);
  }
  return true;
}

bool Parse(const json::object& m, UpcallRequest* out, std::string* error) {
  *out = UpcallRequest();
  const json::value* action = m.if_contains("action");
  if (!action || !action->is_string() ||
      !ParseAction(action->get_string(), &out->action)) {
    *error = "'action' must be ARCHIVE or REMOVE";
    return false;
  }
  const json::value* fsname = m.if_contains("fsname");
  if (!fsname || !fsname->is_string()) {
    *error = "'fsname' must be a string";
    return false;
  }
  out->fsname = fsname->get_string();
  int64_t archive_id = 0;
  if (!OptionalInt(m, "archive_id", 0, &archive_id, error)) return false;
  if (!CheckArchiveId(archive_id, error)) return false;
  out->archive_id = static_cast<uint32_t>(archive_id);
  if (m.contains("flags") && !GetU64(m, "flags", &out->flags)) {
    *error = "'flags' must be an integer";
    return false;
  }
  if (!GetBytes(m, "data", &out->data, error)) return false;
  const json::value* fids = m.if_contains("fids");
  if (!fids || !fids->is_array() || fids->get_array().empty()) {
    *error = "'fids' must be a non-empty array of FIDs";
    return false;
  }
  if (fids->get_array().size() > kMaxUpcallFids) {
    *error = fmt::format("'fids' holds more than {} FIDs", kMaxUpcallFids);
    return false;
  }
  for (const json::value& value : fids->get_array()) {
    lu_fid fid{};
    std::string why;
    if (!FidFromJson(value, &fid, &why) || !Sane(fid)) {
      *error = fmt::format("'fids'[{}]: {}", out->fids.size(),
                           why.empty() ? "not a FID of a file" : why);
      return false;
    }
    out->fids.push_back(fid);
  }
  return true;
}

json::object ToJson(const UpcallRequest& request) {
  json::object m{{"command", "upcall"},
                 {"action", ActionName(request.action)},
                 {"fsname", request.fsname},
                 {"archive_id", request.archive_id},
                 {"flags", static_cast<int64_t>(request.flags)}};
  PutBytes(m, "data", request.data);
  json::array fids;
  for (const lu_fid& fid : request.fids) fids.push_back(FidToJson(fid));
  m["fids"] = std::move(fids);
  return m;
}

void Parse(const json::object& m, UpcallReply* out) {
  *out = UpcallReply();
  out->header = ReadReplyHeader(m);
  OptionalInt(m, "enqueued", 0, &out->enqueued);
}

json::object ToJson(const UpcallReply& reply) {
  return MakeReply("upcall", reply.header,
                   json::object{{"enqueued", reply.enqueued}});
}

std::vector<WireItem> UpcallItems(const UpcallRequest& request,
                                  uint64_t first_cookie, int64_t now_ns) {
  std::vector<WireItem> items(request.fids.size());
  for (size_t i = 0; i < items.size(); ++i) {
    WireItem& w = items[i];
    w.archive_id = kUpcallArchiveBit | request.archive_id;
    w.hal_flags = request.flags;
    w.timestamp_ns = now_ns;
    w.item.data = request.data;
    hsm_action_item& hai = w.item.hai;
    hai.hai_len =
        static_cast<uint32_t>(hsm::kHaiFixedSize + request.data.size());
    hai.hai_action = request.action;
    hai.hai_fid = request.fids[i];
    hai.hai_dfid = request.fids[i];
    hai.hai_extent.offset = 0;
    hai.hai_extent.length = ~0ULL;
    hai.hai_cookie = kUpcallCookieBit | (first_cookie + i);
    hai.hai_gid = 0;
  }
  return items;
}

}  // namespace protocol
