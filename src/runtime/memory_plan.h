// Lifetime-based placement of activation buffers in one arena.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace kaiwu::runtime {

struct BufferRequest {
  size_t bytes = 0;
  int first_step = 0;  // step that writes it
  int last_step = 0;   // last step that reads it (inclusive)
};

// Assigns each request an offset (64-byte aligned) so that buffers whose lifetimes overlap never share bytes.
// Returns the arena size. Deterministic (depends only on the requests).
size_t plan_memory(const std::vector<BufferRequest>& reqs, std::vector<size_t>* offsets);

}  // namespace kaiwu::runtime
