#include "protocol/hot_command.h"

#include <algorithm>
#include <cstdint>

#include "protocol/decimal.h"

namespace protocol {

namespace {

class Scanner {
 public:
  Scanner(std::string_view text, size_t max_bytes)
      : p_(text.data()),
        end_(text.data() + std::min(text.size(), max_bytes)),
        begin_(text.data()),
        end_is_text_end_(text.size() <= max_bytes) {}

  size_t consumed() const { return static_cast<size_t>(p_ - begin_); }
  // The scan stopped at the end of the text (not at the bound): the rest
  // of the message may still come.
  bool cut() const { return hit_end_ && end_is_text_end_; }

  void SkipBlanks() {
    while (p_ < end_ &&
           (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t'))
      ++p_;
  }
  bool Take(char c) {
    SkipBlanks();
    if (AtEnd() || *p_ != c) return false;
    ++p_;
    return true;
  }
  bool Peek(char c) {
    SkipBlanks();
    return !AtEnd() && *p_ == c;
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
    if (AtEnd()) return false;
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
    if (AtEnd() || *p_ < '0' || *p_ > '9') return false;
    if (*p_ == '0' && p_ + 1 < end_ && p_[1] >= '0' && p_[1] <= '9')
      return false;
    uint64_t value;
    if (!ReadDecimalDigits(&p_, end_, &value)) return false;
    // A number must end here: '.', 'e' and the like are not ours; the end
    // of the buffer may be the middle of the number.
    if (AtEnd() || *p_ == '.' || *p_ == 'e' || *p_ == 'E') return false;
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
    if (AtEnd()) return false;
    if (*p_ == '"') {
      std::string_view ignored;
      return String(&ignored);
    }
    if (*p_ == '-' || (*p_ >= '0' && *p_ <= '9')) {
      uint64_t bits;
      bool negative;
      return Integer(&bits, &negative);
    }
    const auto left = static_cast<size_t>(end_ - p_);
    for (std::string_view word : {"true", "false", "null"}) {
      if (left >= word.size() && std::string_view(p_, word.size()) == word) {
        p_ += word.size();
        return true;
      }
      if (left < word.size() && word.starts_with(std::string_view(p_, left)))
        hit_end_ = true;  // "tr" at the end: may be "true"
    }
    return false;
  }

 private:
  bool AtEnd() {
    if (p_ != end_) return false;
    hit_end_ = true;
    return true;
  }

  const char* p_;
  const char* end_;
  const char* begin_;
  const bool end_is_text_end_;
  bool hit_end_ = false;
};

enum Field {
  kCommand,
  kCookie,
  kDfid,
  kStatus,
  kEndRc,
  kBeginRc,
  kHpFlags,
  kItems,
  kFieldCount
};

// The fields of one object: a whole message, or an entry of a batch.
struct Fields {
  bool seen[kFieldCount] = {};
  std::string_view command;
  ItemId id;
  int64_t status = 0, end_rc = 0, begin_rc = 0, hp_flags = 0;

  bool any_done_field() const {
    return seen[kCookie] || seen[kDfid] || seen[kStatus] || seen[kEndRc] ||
           seen[kBeginRc] || seen[kHpFlags];
  }
  DoneRequest done() const {
    DoneRequest out;
    out.id = id;
    out.status = static_cast<int32_t>(status);
    out.end_rc = static_cast<int32_t>(end_rc);
    out.begin_rc = static_cast<int32_t>(begin_rc);
    out.hp_flags = static_cast<uint16_t>(hp_flags);
    return out;
  }
};

bool ReadObject(Scanner& in, Fields* f, std::vector<DoneRequest>* items);

// `[{entry}, ...]`, at least one entry; each a plain done without
// "command".
bool ReadItems(Scanner& in, std::vector<DoneRequest>* items) {
  if (!in.Take('[')) return false;
  do {
    Fields entry;
    if (!ReadObject(in, &entry, nullptr)) return false;
    if (entry.seen[kCommand] || !entry.seen[kCookie] || !entry.seen[kDfid])
      return false;
    items->push_back(entry.done());
  } while (in.Take(','));
  return in.Take(']');
}

// Reads `{...}` into *f. `items`: where the entries of "items" go (a
// message); null in an entry, where "items" is not ours.
bool ReadObject(Scanner& in, Fields* f, std::vector<DoneRequest>* items) {
  if (!in.Take('{')) return false;
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
    else if (key == "items")
      field = kItems;
    if (field < 0) {
      // hai_fid and the like: read by neither command (an object there is
      // left to the reader).
      if (!in.SkipScalar()) return false;
      continue;
    }
    // A key given twice: which one counts is the reader's business.
    if (f->seen[field]) return false;
    f->seen[field] = true;
    bool ok = false;
    bool negative;
    switch (field) {
      case kCommand:
        ok = in.String(&f->command);
        break;
      case kCookie:
        ok = in.Integer(&f->id.cookie, &negative);
        break;
      case kDfid:
        ok = in.Fid(&f->id.dfid);
        break;
      case kStatus:
        ok = in.IntIn(INT32_MIN, INT32_MAX, &f->status);
        break;
      case kEndRc:
        ok = in.IntIn(INT32_MIN, INT32_MAX, &f->end_rc);
        break;
      case kBeginRc:
        ok = in.IntIn(INT32_MIN, INT32_MAX, &f->begin_rc);
        break;
      case kHpFlags:
        ok = in.IntIn(0, UINT16_MAX, &f->hp_flags);
        break;
      case kItems:
        ok = items != nullptr && ReadItems(in, items);
        break;
    }
    if (!ok) return false;
  }
  return in.Take('}');
}

bool Decide(const Fields& f, HotCommand* out) {
  if (!f.seen[kCommand]) return false;
  if (f.seen[kItems]) {
    // The batch form: its fields are in the entries; anything else at the
    // top is the reader's to judge.
    if (f.command != "done" || f.any_done_field()) return false;
    out->command = Command::kDone;
    out->batch = true;
    return true;
  }
  out->batch = false;
  // Without the identity, the reader's path gives the error reply.
  if (!f.seen[kCookie] || !f.seen[kDfid]) return false;
  if (f.command == "done") {
    out->command = Command::kDone;
    out->done = f.done();
  } else if (f.command == "progress") {
    // Only the identity counts; a status and the like are the reader's.
    if (f.seen[kStatus] || f.seen[kEndRc] || f.seen[kBeginRc] ||
        f.seen[kHpFlags])
      return false;
    out->command = Command::kProgress;
    out->progress = ProgressRequest();
    out->progress.id = f.id;
  } else {
    return false;
  }
  return true;
}

}  // namespace

HotScan ScanHot(std::string_view text, HotCommand* out, size_t* consumed,
                size_t max_bytes) {
  Scanner in(text, std::min(max_bytes, kMaxHotBatchBytes));
  out->dones.clear();
  Fields f;
  if (!ReadObject(in, &f, &out->dones))
    return in.cut() ? HotScan::kCut : HotScan::kNotHot;
  // A single command stays within its own bound, as before.
  if (!f.seen[kItems] && in.consumed() > kMaxHotCommandBytes)
    return HotScan::kNotHot;
  if (!Decide(f, out)) return HotScan::kNotHot;
  *consumed = in.consumed();
  return HotScan::kTaken;
}

bool ScanHotCommand(std::string_view text, HotCommand* out, size_t* consumed) {
  return ScanHot(text, out, consumed) == HotScan::kTaken;
}

}  // namespace protocol
