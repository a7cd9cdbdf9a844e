#include "protocol/hot_command.h"

#include <cstdint>
#include <limits>

namespace protocol {

namespace {

class Scanner {
 public:
  explicit Scanner(std::string_view text)
      : p_(text.data()),
        end_(text.data() + std::min(text.size(), kMaxHotCommandBytes)),
        begin_(text.data()) {}

  size_t consumed() const { return static_cast<size_t>(p_ - begin_); }

  void SkipBlanks() {
    while (p_ < end_ &&
           (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t'))
      ++p_;
  }
  bool Take(char c) {
    SkipBlanks();
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    return true;
  }
  bool Peek(char c) {
    SkipBlanks();
    return p_ < end_ && *p_ == c;
  }
  // A string of printable ASCII without escapes (anything else, UTF-8
  // that the reader must check included: not ours).
  bool String(std::string_view* out) {
    if (!Take('"')) return false;
    const char* start = p_;
    while (p_ < end_ && *p_ != '"') {
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '\\' || c < 0x20 || c >= 0x80) return false;
      ++p_;
    }
    if (p_ == end_) return false;
    *out = std::string_view(start, static_cast<size_t>(p_ - start));
    ++p_;
    return true;
  }
  // A JSON integer as boost::json reads it: int64 when it fits, uint64 for
  // larger positives; *bits is its 64-bit pattern, *negative its sign.
  // Fractions, exponents, leading zeros, out of range: false.
  bool Integer(uint64_t* bits, bool* negative) {
    SkipBlanks();
    *negative = p_ < end_ && *p_ == '-';
    if (*negative) ++p_;
    if (p_ == end_ || *p_ < '0' || *p_ > '9') return false;
    if (*p_ == '0' && p_ + 1 < end_ && p_[1] >= '0' && p_[1] <= '9')
      return false;
    uint64_t value = 0;
    while (p_ < end_ && *p_ >= '0' && *p_ <= '9') {
      const uint64_t digit = static_cast<uint64_t>(*p_ - '0');
      if (value > (std::numeric_limits<uint64_t>::max() - digit) / 10)
        return false;
      value = value * 10 + digit;
      ++p_;
    }
    // A number must end here: '.', 'e' and the like are not ours; the end
    // of the buffer may be the middle of the number.
    if (p_ == end_ || *p_ == '.' || *p_ == 'e' || *p_ == 'E') return false;
    if (*negative) {
      if (value > uint64_t{1} << 63) return false;
      *bits = uint64_t{0} - value;
    } else {
      *bits = value;
    }
    return true;
  }
  // An integer in [lo, hi] as a signed value.
  bool IntIn(int64_t lo, int64_t hi, int64_t* out) {
    uint64_t bits;
    bool negative;
    if (!Integer(&bits, &negative)) return false;
    if (!negative && bits > static_cast<uint64_t>(INT64_MAX)) return false;
    const auto value = static_cast<int64_t>(bits);
    if (value < lo || value > hi) return false;
    *out = value;
    return true;
  }
  // {"f_seq": u64, "f_oid": u32, "f_ver": u32}, each once, any order; the
  // 32-bit ones may come negative (a C int), as FidFromJson takes them.
  bool Fid(lu_fid* fid) {
    if (!Take('{')) return false;
    bool seen[3] = {false, false, false};
    for (int i = 0; i < 3; ++i) {
      if (i > 0 && !Take(',')) return false;
      std::string_view key;
      if (!String(&key) || !Take(':')) return false;
      if (key == "f_seq") {
        uint64_t bits;
        bool negative;
        if (seen[0] || !Integer(&bits, &negative)) return false;
        seen[0] = true;
        fid->f_seq = bits;
      } else if (key == "f_oid" || key == "f_ver") {
        const int at = key == "f_oid" ? 1 : 2;
        int64_t value;
        if (seen[at] || !IntIn(INT32_MIN, UINT32_MAX, &value)) return false;
        seen[at] = true;
        (at == 1 ? fid->f_oid : fid->f_ver) = static_cast<uint32_t>(value);
      } else {
        return false;
      }
    }
    return Take('}');
  }
  // A value of a key the command does not read: a scalar (a string without
  // escapes, a number, true, false or null) is skipped; anything else is
  // not ours.
  bool SkipScalar() {
    SkipBlanks();
    if (p_ == end_) return false;
    if (*p_ == '"') {
      std::string_view ignored;
      return String(&ignored);
    }
    if (*p_ == '-' || (*p_ >= '0' && *p_ <= '9')) {
      uint64_t bits;
      bool negative;
      return Integer(&bits, &negative);
    }
    for (std::string_view word : {"true", "false", "null"}) {
      if (static_cast<size_t>(end_ - p_) >= word.size() &&
          std::string_view(p_, word.size()) == word) {
        p_ += word.size();
        return true;
      }
    }
    return false;
  }

 private:
  const char* p_;
  const char* end_;
  const char* begin_;
};

enum Field { kCommand, kCookie, kDfid, kStatus, kEndRc, kBeginRc, kHpFlags };

}  // namespace

bool ScanHotCommand(std::string_view text, HotCommand* out, size_t* consumed) {
  Scanner in(text);
  if (!in.Take('{')) return false;
  bool seen[7] = {};
  std::string_view command;
  ItemId id;
  int64_t status = 0, end_rc = 0, begin_rc = 0, hp_flags = 0;
  bool first = true;
  while (!in.Peek('}')) {
    if (!first && !in.Take(',')) return false;
    first = false;
    std::string_view key;
    if (!in.String(&key) || !in.Take(':')) return false;
    int field = -1;
    if (key == "command")
      field = kCommand;
    else if (key == "hai_cookie")
      field = kCookie;
    else if (key == "hai_dfid")
      field = kDfid;
    else if (key == "status")
      field = kStatus;
    else if (key == "end_rc")
      field = kEndRc;
    else if (key == "begin_rc")
      field = kBeginRc;
    else if (key == "hp_flags")
      field = kHpFlags;
    if (field < 0) {
      // hai_fid and the like: read by neither command (an object there is
      // left to the reader).
      if (!in.SkipScalar()) return false;
      continue;
    }
    // A key given twice: which one counts is the reader's business.
    if (seen[field]) return false;
    seen[field] = true;
    bool ok = false;
    bool negative;
    switch (field) {
      case kCommand:
        ok = in.String(&command);
        break;
      case kCookie:
        ok = in.Integer(&id.cookie, &negative);
        break;
      case kDfid:
        ok = in.Fid(&id.dfid);
        break;
      case kStatus:
        ok = in.IntIn(INT32_MIN, INT32_MAX, &status);
        break;
      case kEndRc:
        ok = in.IntIn(INT32_MIN, INT32_MAX, &end_rc);
        break;
      case kBeginRc:
        ok = in.IntIn(INT32_MIN, INT32_MAX, &begin_rc);
        break;
      case kHpFlags:
        ok = in.IntIn(0, UINT16_MAX, &hp_flags);
        break;
    }
    if (!ok) return false;
  }
  if (!in.Take('}')) return false;
  // Without the identity, the reader's path gives the error reply.
  if (!seen[kCommand] || !seen[kCookie] || !seen[kDfid]) return false;
  if (command == "done") {
    out->command = Command::kDone;
    out->done = DoneRequest();
    out->done.id = id;
    out->done.status = static_cast<int32_t>(status);
    out->done.end_rc = static_cast<int32_t>(end_rc);
    out->done.begin_rc = static_cast<int32_t>(begin_rc);
    out->done.hp_flags = static_cast<uint16_t>(hp_flags);
  } else if (command == "progress") {
    // Only the identity counts; a status and the like are the reader's.
    if (seen[kStatus] || seen[kEndRc] || seen[kBeginRc] || seen[kHpFlags])
      return false;
    out->command = Command::kProgress;
    out->progress = ProgressRequest();
    out->progress.id = id;
  } else {
    return false;
  }
  *consumed = in.consumed();
  return true;
}

}  // namespace protocol
