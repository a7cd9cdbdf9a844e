// CRC-32C (Castagnoli), the checksum of journal records: detects torn and
// corrupted records on replay.
//
// Thread-safety: pure function.
#ifndef STORE_CRC32C_H_
#define STORE_CRC32C_H_

#include <cstddef>
#include <cstdint>

namespace store {

uint32_t Crc32c(const void* data, size_t size);

}  // namespace store

#endif  // STORE_CRC32C_H_
