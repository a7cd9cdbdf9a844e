// CRC-32C (Castagnoli), the checksum of journal records: detects torn and
// corrupted records on replay.
//
// Crc32c uses the processor's CRC32 instruction (SSE 4.2) when it has one,
// eight bytes per instruction, and a table otherwise: every journal byte is
// checksummed when written and again at each start, so at a million queued
// requests (half a gigabyte of journal) the table alone costs most of a
// second of recovery. Debian 12 packages no CRC-32C library for C++.
//
// Thread-safety: pure functions.
#ifndef STORE_CRC32C_H_
#define STORE_CRC32C_H_

#include <cstddef>
#include <cstdint>

namespace store {

uint32_t Crc32c(const void* data, size_t size);

// The table version, whatever the processor (tests compare the two).
uint32_t Crc32cPortable(const void* data, size_t size);
// Whether Crc32c uses the processor's instruction.
bool Crc32cAccelerated();

}  // namespace store

#endif  // STORE_CRC32C_H_
