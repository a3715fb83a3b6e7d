// Gather along one axis: row copies of the contiguous inner block of every selected index (any dtype).
#pragma once
#include <cstdint>

namespace kaiwu::kernels::ref {

struct GatherParams {
  int64_t outer = 1;        // product of the data dims before the axis
  int64_t axis_dim = 0;     // data dim at the axis
  int64_t num_indices = 0;  // number of indices
  int64_t inner_bytes = 0;  // bytes of one inner block (data dims after the axis times the element size)
};

// Position of the first index outside [-axis_dim, axis_dim), or -1 when all are valid.
int64_t gather_find_bad_index(const int64_t* idx, int64_t n, int64_t axis_dim);
int64_t gather_find_bad_index(const int32_t* idx, int64_t n, int64_t axis_dim);

// Writes output rows [row_begin, row_end) of the outer*num_indices rows; negative indices count from the end.
// Indices must be valid.
void gather_rows(const void* data, const int64_t* idx, void* out, const GatherParams& p, int64_t row_begin,
                 int64_t row_end);
void gather_rows(const void* data, const int32_t* idx, void* out, const GatherParams& p, int64_t row_begin,
                 int64_t row_end);

}  // namespace kaiwu::kernels::ref
