// CRC-32C (Castagnoli polynomial, as in iSCSI / ext4): the checksum of deployable model files.
#pragma once
#include <cstddef>
#include <cstdint>

namespace kaiwu::deploy {

// CRC-32C of `n` bytes, continuing from `crc` (0 to start). crc32c("123456789") == 0xE3069283.
uint32_t crc32c(const void* data, size_t n, uint32_t crc = 0);

}  // namespace kaiwu::deploy
