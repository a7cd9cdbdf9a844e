#include "store/journal_format.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "store/crc32c.h"

namespace store {

namespace {

uint32_t GetU32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return uint32_t{u[0]} | uint32_t{u[1]} << 8 | uint32_t{u[2]} << 16 |
         uint32_t{u[3]} << 24;
}

// Writes `v` little-endian at `p`; returns the byte after it.
char* StoreU32(char* p, uint32_t v) {
  p[0] = static_cast<char>(v);
  p[1] = static_cast<char>(v >> 8);
  p[2] = static_cast<char>(v >> 16);
  p[3] = static_cast<char>(v >> 24);
  return p + 4;
}

char* StoreString(char* p, std::string_view s) {
  p = StoreU32(p, static_cast<uint32_t>(s.size()));
  if (!s.empty()) std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

bool GetString(std::string_view* in, std::string_view* out) {
  if (in->size() < 4) return false;
  uint32_t n = GetU32(in->data());
  if (in->size() - 4 < n) return false;
  *out = in->substr(4, n);
  in->remove_prefix(4 + n);
  return true;
}

bool IsHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// The record at `at`: true with *record and *size if it is whole, its
// checksum matches and its body parses; else false with *why.
bool ParseRecord(std::string_view data, size_t at, JournalRecord* record,
                 size_t* size, std::string* why) {
  if (data.size() - at < kJournalRecordHeader) {
    if (why) *why = "record header cut short";
    return false;
  }
  uint32_t length = GetU32(data.data() + at);
  uint32_t crc = GetU32(data.data() + at + 4);
  if (length > kJournalMaxRecord ||
      data.size() - at - kJournalRecordHeader < length) {
    if (why) *why = fmt::format("record of {} bytes runs past the end", length);
    return false;
  }
  std::string_view body = data.substr(at + kJournalRecordHeader, length);
  // The shape first (cheap), then the checksum: resynchronising tries
  // every byte position, most of which fail here.
  bool shaped = body.size() >= 5 && std::string_view("PAUF").find(body[0]) !=
                                        std::string_view::npos;
  if (shaped && GetU32(body.data() + 1) > body.size() - 5) shaped = false;
  if (!shaped) {
    if (why) *why = "malformed record";
    return false;
  }
  if (Crc32c(body.data(), body.size()) != crc) {
    if (why) *why = "checksum mismatch";
    return false;
  }
  *record = JournalRecord{};
  std::string_view rest = body.substr(body.empty() ? 0 : 1);
  bool ok = !body.empty() && GetString(&rest, &record->key);
  record->type = ok ? body[0] : 0;
  switch (record->type) {
    case 'P':
    case 'A':
      ok = GetString(&rest, &record->value);
      break;
    case 'U':
    case 'F':
      break;
    default:
      ok = false;
  }
  if (!ok || !rest.empty()) {
    if (why) *why = "malformed record";
    return false;
  }
  *size = kJournalRecordHeader + length;
  return true;
}

// Request keys in damaged bytes: 48 hex digits after their length prefix
// (48, u32 LE), else runs of exactly 48 hex digits (the prefix damaged).
std::vector<std::string> KeysIn(std::string_view bytes) {
  std::vector<std::string> keys;
  auto add = [&](std::string_view key) {
    if (std::find(keys.begin(), keys.end(), key) == keys.end())
      keys.emplace_back(key);
  };
  auto hex_at = [&](size_t at, size_t n) {
    return at + n <= bytes.size() &&
           std::all_of(bytes.begin() + static_cast<long>(at),
                       bytes.begin() + static_cast<long>(at + n), IsHex);
  };
  constexpr std::string_view kPrefix("0\0\0\0", 4);
  std::vector<bool> covered(bytes.size(), false);
  for (size_t at = bytes.find(kPrefix); at != std::string_view::npos;
       at = bytes.find(kPrefix, at + 1)) {
    if (!hex_at(at + 4, 48)) continue;
    add(bytes.substr(at + 4, 48));
    std::fill(covered.begin() + static_cast<long>(at),
              covered.begin() + static_cast<long>(at + 52), true);
  }
  for (size_t i = 0; i < bytes.size();) {
    if (!IsHex(bytes[i])) {
      ++i;
      continue;
    }
    size_t start = i;
    while (i < bytes.size() && IsHex(bytes[i])) ++i;
    if (i - start == 48 && !covered[start]) add(bytes.substr(start, 48));
  }
  return keys;
}

// Writes the header of the record that starts at `start` and runs to the
// end of `out`: its body's length and checksum.
void SealJournalRecord(std::string* out, size_t start) {
  const size_t length = out->size() - start - kJournalRecordHeader;
  const char* body = out->data() + start + kJournalRecordHeader;
  StoreU32(out->data() + start, static_cast<uint32_t>(length));
  StoreU32(out->data() + start + 4, Crc32c(body, length));
}

}  // namespace

void EncodeJournalRecord(std::string* out, char type, std::string_view key,
                         const std::string_view* value) {
  // Sized once and filled in place: every change the server makes goes
  // through here, on the event loop.
  const size_t length = 1 + 4 + key.size() + (value ? 4 + value->size() : 0);
  const size_t start = out->size();
  out->resize(start + kJournalRecordHeader + length);
  char* p = out->data() + start + kJournalRecordHeader;
  *p++ = type;
  p = StoreString(p, key);
  if (value) StoreString(p, *value);
  SealJournalRecord(out, start);
}

size_t BeginJournalRecord(std::string* out, char type, std::string_view key) {
  const size_t start = out->size();
  // The value's length (4 bytes) too: a placeholder until the value is in.
  out->resize(start + kJournalRecordHeader + 1 + 4 + key.size() + 4);
  char* p = out->data() + start + kJournalRecordHeader;
  *p++ = type;
  StoreString(p, key);
  return start;
}

void FinishJournalRecord(std::string* out, size_t start, size_t key_size) {
  const size_t value_at = start + kJournalRecordHeader + 1 + 4 + key_size + 4;
  StoreU32(out->data() + value_at - 4,
           static_cast<uint32_t>(out->size() - value_at));
  SealJournalRecord(out, start);
}

JournalScan ScanJournal(
    std::string_view data,
    const std::function<void(const JournalRecord&, size_t at, size_t size)>&
        visit) {
  JournalScan scan;
  size_t at = kJournalMagic.size();
  if (data.size() < kJournalMagic.size() ||
      data.substr(0, kJournalMagic.size()) != kJournalMagic) {
    // A damaged header in front of valid records is damage like any other;
    // without a valid record, this is not a journal.
    JournalRecord record;
    size_t size = 0, next = 0;
    for (; next < data.size(); ++next)
      if (ParseRecord(data, next, &record, &size, nullptr)) break;
    if (next >= data.size()) return scan;
    scan.damage.push_back(
        {0, next, "bad journal header", KeysIn(data.substr(0, next))});
    at = next;
  }
  scan.header = true;
  while (at < data.size()) {
    JournalRecord record;
    size_t size = 0;
    std::string why;
    if (ParseRecord(data, at, &record, &size, &why)) {
      visit(record, at, size);
      at += size;
      continue;
    }
    // Damage: the next valid record, if any, is where the journal goes on.
    size_t next = at + 1;
    for (; next < data.size(); ++next)
      if (ParseRecord(data, next, &record, &size, nullptr)) break;
    if (next >= data.size()) {
      scan.tail_why = why;
      scan.tail_keys = KeysIn(data.substr(at));
      break;
    }
    JournalDamage damage;
    damage.offset = at;
    damage.length = next - at;
    damage.why = std::move(why);
    damage.keys = KeysIn(data.substr(at, next - at));
    scan.damage.push_back(std::move(damage));
    at = next;
  }
  scan.end = at;
  return scan;
}

size_t ReplayJournal(std::string_view data,
                     const std::function<void(const JournalRecord&)>& visit,
                     std::string* why) {
  JournalScan scan = ScanJournal(
      data, [&](const JournalRecord& r, size_t, size_t) { visit(r); });
  why->clear();
  if (!scan.header)
    *why = "no journal header";
  else if (!scan.damage.empty())
    *why = fmt::format("{} at offset {}", scan.damage[0].why,
                       scan.damage[0].offset);
  else
    *why = scan.tail_why;
  return scan.end;
}

size_t EstimateLiveRequests(std::string_view data) {
  if (!data.starts_with(kJournalMagic)) return 0;
  size_t puts = 0, forgets = 0;
  for (size_t at = kJournalMagic.size();
       data.size() - at > kJournalRecordHeader;) {
    const uint32_t length = GetU32(data.data() + at);
    if (length == 0 || length > kJournalMaxRecord ||
        data.size() - at - kJournalRecordHeader < length)
      break;
    const char type = data[at + kJournalRecordHeader];
    puts += type == 'P';
    forgets += type == 'F';
    at += kJournalRecordHeader + length;
  }
  return puts > forgets ? puts - forgets : 0;
}

std::string DescribeRequestKey(std::string_view key) {
  if (key.size() != 48 ||
      !std::all_of(key.begin(), key.end(), [](char c) { return IsHex(c); }))
    return std::string(key);
  auto hex = [&](size_t at, size_t n) {
    return std::stoull(std::string(key.substr(at, n)), nullptr, 16);
  };
  return fmt::format("cookie {:#x} fid [{:#x}:{:#x}:{:#x}]", hex(0, 16),
                     hex(16, 16), hex(32, 8), hex(40, 8));
}

}  // namespace store
