#include "protocol/item_scan.h"

#include <cstdint>
#include <cstring>

#include "protocol/byte_string.h"
#include "protocol/decimal.h"

namespace protocol {

namespace {

class Cursor {
 public:
  explicit Cursor(std::string_view text)
      : p_(text.data()), end_(text.data() + text.size()) {}

  bool at_end() const { return p_ == end_; }

  // Exactly these bytes next.
  bool Literal(std::string_view bytes) {
    if (static_cast<size_t>(end_ - p_) < bytes.size() ||
        std::memcmp(p_, bytes.data(), bytes.size()) != 0)
      return false;
    p_ += bytes.size();
    return true;
  }

  // A JSON integer that boost::json reads as int64 or uint64 (not as a
  // double): *bits is its 64-bit pattern, as GetU64 gives it. Leading
  // zeros, "-0" (which the writer never writes) and values beyond 64 bits
  // are refused; what follows the digits is the next Literal's to check,
  // so a fraction or an exponent is refused there.
  bool Integer(uint64_t* bits) {
    const bool negative = p_ < end_ && *p_ == '-';
    if (negative) ++p_;
    const char* first = p_;
    uint64_t value;
    if (!ReadDecimalDigits(&p_, end_, &value)) return false;
    const auto digits = p_ - first;
    if (digits == 0 || (*first == '0' && digits > 1)) return false;
    if (negative) {
      if (value == 0 || value > uint64_t{1} << 63) return false;
      *bits = uint64_t{0} - value;
    } else {
      *bits = value;
    }
    return true;
  }

  // GetU32's rule: the 64-bit pattern read as signed, in [INT32_MIN,
  // UINT32_MAX] (values of 2^31 and above may arrive negative).
  bool U32(uint32_t* out) {
    uint64_t bits;
    if (!Integer(&bits)) return false;
    const auto as_signed = static_cast<int64_t>(bits);
    if (as_signed < INT32_MIN || as_signed > int64_t{UINT32_MAX}) return false;
    *out = static_cast<uint32_t>(bits);
    return true;
  }

  // {"f_seq":…,"f_oid":…,"f_ver":…}, in the writer's order.
  bool Fid(lu_fid* fid) {
    uint64_t seq;
    uint32_t oid, ver;
    if (!Literal(R"({"f_seq":)") || !Integer(&seq) ||
        !Literal(R"(,"f_oid":)") || !U32(&oid) || !Literal(R"(,"f_ver":)") ||
        !U32(&ver) || !Literal("}"))
      return false;
    fid->f_seq = seq;
    fid->f_oid = oid;
    fid->f_ver = ver;
    return true;
  }

  // A string without escapes or control bytes, its bytes valid UTF-8 (the
  // JSON parser refuses invalid UTF-8: such text is the parser's to judge).
  bool String(std::string_view* out) {
    if (!Literal("\"")) return false;
    const char* start = p_;
    while (p_ < end_ && *p_ != '"') {
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '\\' || c < 0x20) return false;
      ++p_;
    }
    if (p_ == end_) return false;
    *out = std::string_view(start, static_cast<size_t>(p_ - start));
    ++p_;
    return IsValidUtf8(*out);
  }

 private:
  const char* p_;
  const char* end_;
};

}  // namespace

bool ScanItemText(std::string_view text, std::string_view extra_key,
                  WireItem* wire, std::string_view* extra) {
  Cursor in(text);
  hsm_action_item& hai = wire->item.hai;
  hai = hsm_action_item{};
  uint32_t action;
  lu_fid fid, dfid;
  uint64_t offset, length, cookie, gid;
  if (!in.Literal(R"({"hai_action":)") || !in.U32(&action) ||
      !in.Literal(R"(,"hai_fid":)") || !in.Fid(&fid) ||
      !in.Literal(R"(,"hai_dfid":)") || !in.Fid(&dfid) ||
      !in.Literal(R"(,"hai_extent_offset":)") || !in.Integer(&offset) ||
      !in.Literal(R"(,"hai_extent_length":)") || !in.Integer(&length) ||
      !in.Literal(R"(,"hai_cookie":)") || !in.Integer(&cookie) ||
      !in.Literal(R"(,"hai_gid":)") || !in.Integer(&gid))
    return false;
  std::string_view data;
  if (in.Literal(R"(,"hai_data":)")) {
    if (!in.String(&data)) return false;
    wire->item.data.assign(data);
  } else if (in.Literal(R"(,"hai_data_base64":)")) {
    // Base64Decode is strict, as GetBytes reads it.
    if (!in.String(&data) || !Base64Decode(data, &wire->item.data))
      return false;
  } else {
    return false;
  }
  uint32_t archive_id;
  uint64_t flags, timestamp;
  if (!in.Literal(R"(,"hal_archive_id":)") || !in.U32(&archive_id) ||
      !in.Literal(R"(,"hal_flags":)") || !in.Integer(&flags) ||
      !in.Literal(R"(,"timestamp":)") || !in.Integer(&timestamp))
    return false;
  *extra = std::string_view();
  if (!extra_key.empty() && in.Literal(",\"")) {
    if (!in.Literal(extra_key) || !in.Literal("\":") || !in.String(extra))
      return false;
  }
  if (!in.Literal("}") || !in.at_end()) return false;
  hai.hai_action = action;
  hai.hai_fid = fid;
  hai.hai_dfid = dfid;
  hai.hai_extent.offset = offset;
  hai.hai_extent.length = length;
  hai.hai_cookie = cookie;
  hai.hai_gid = gid;
  hai.hai_len =
      static_cast<uint32_t>(hsm::kHaiFixedSize + wire->item.data.size());
  wire->archive_id = archive_id;
  wire->hal_flags = flags;
  wire->timestamp_ns = static_cast<int64_t>(timestamp);
  return true;
}

}  // namespace protocol
