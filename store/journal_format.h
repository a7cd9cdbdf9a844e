// The embedded journal's file format and its decoder, apart from any I/O:
// a pure function of a byte buffer, for the store, tools and fuzzers.
// docs/journal.md describes the format and the recovery rules.
//
// File: the 8-byte magic "CDTJRN01", then records back to back:
//   length (u32 LE) | CRC-32C of the body (u32 LE) | body
//   body = type byte, key (u32 LE length + bytes), and for 'P' (put) and
//          'A' (assign) a value (u32 LE length + bytes); 'U' (unassign) and
//          'F' (forget) have no value.
//
// Decoding resynchronises: a record that fails its checksum or does not
// parse is skipped up to the next position where a valid record starts, and
// reported as damage; only damage that no valid record follows is a torn
// tail (a write cut short by a crash).
#ifndef STORE_JOURNAL_FORMAT_H_
#define STORE_JOURNAL_FORMAT_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace store {

inline constexpr std::string_view kJournalMagic = "CDTJRN01";
inline constexpr size_t kJournalRecordHeader = 8;  // length + crc
// A record longer than this is damage, not data.
inline constexpr uint32_t kJournalMaxRecord = 64u << 20;

struct JournalRecord {
  char type;  // 'P' put, 'A' assign, 'U' unassign, 'F' forget
  std::string_view key;
  std::string_view value;
};

// Appends one encoded record to *out.
void EncodeJournalRecord(std::string* out, char type, std::string_view key,
                         const std::string_view* value);

// The same record in two steps, for a value its writer appends in place:
// BeginJournalRecord() appends the record up to its value and returns where
// the record starts; the caller appends the value to *out; then
// FinishJournalRecord() fills in the value's length, the record's length
// and its checksum. Gives the bytes EncodeJournalRecord() gives.
size_t BeginJournalRecord(std::string* out, char type, std::string_view key);
void FinishJournalRecord(std::string* out, size_t start, size_t key_size);

// Bytes skipped between two valid records.
struct JournalDamage {
  uint64_t offset = 0;
  uint64_t length = 0;
  std::string why;  // what was wrong at `offset`
  // Request keys (RequestKey(): 48 lowercase hex digits) read in the
  // damaged bytes: the records of these keys may have been lost. A key may
  // be missing (its own bytes damaged) or, rarely, misread.
  std::vector<std::string> keys;
};

struct JournalScan {
  // The magic is there, or valid records follow a damaged one.
  bool header = false;
  // End of the last valid record: where a torn tail starts, else the size.
  uint64_t end = 0;
  std::string tail_why;  // why the tail is torn; "" without a torn tail
  std::vector<std::string> tail_keys;  // keys read in the torn tail
  std::vector<JournalDamage> damage;
};

// Visits every valid record of `data` (magic included) in order with its
// offset and encoded size. Never throws; any input is safe.
JournalScan ScanJournal(
    std::string_view data,
    const std::function<void(const JournalRecord&, size_t at, size_t size)>&
        visit);

// The records of `data` up to a torn tail; *why says what was wrong (the
// tail's reason, or the first damage's) or is "" for a clean journal.
// Returns JournalScan::end. For tests and tools.
size_t ReplayJournal(std::string_view data,
                     const std::function<void(const JournalRecord&)>& visit,
                     std::string* why);

// About how many requests `data` (a journal, magic included) holds live:
// its Put records less its Forget records, read from the record headers
// alone (no checksum), up to the first that does not look like a record.
// An estimate to size an index before a replay, not a count to trust.
size_t EstimateLiveRequests(std::string_view data);

// "cookie 0x2a fid [0x200000401:0x1:0x0]" for a RequestKey(), else the key.
std::string DescribeRequestKey(std::string_view key);

}  // namespace store

#endif  // STORE_JOURNAL_FORMAT_H_
