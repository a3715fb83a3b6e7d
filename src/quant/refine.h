// Calibration refinements that work on weights (driven by compiler/calib_refine.h): the AdaRound-family rounding
// of one weight channel, and cross-layer equalization of the float model.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "kaiwu/status.h"

namespace kaiwu::quant {

// e^T H e with e = scale * q - w (k entries, H k x k row-major): the expected squared output error of one output
// channel when its inputs have second-moment (or covariance) matrix H.
double rounding_error(const float* w, const int8_t* q, int64_t k, float scale, const double* h);

// Rounding refinement of one output channel: starting from `q` (nearest rounding of w / scale), moves each q_i to
// the other integer around w_i / scale (within [-127, 127]) whenever that lowers e^T H e (greedy coordinate
// descent, at most `passes` sweeps). The result never has a larger error than the start. Returns the flips made.
int64_t refine_rounding(const float* w, int64_t k, float scale, const double* h, int passes, int8_t* q);

struct CleReport {
  int pairs = 0;           // Conv -> (Relu | LeakyRelu | nothing) -> Conv pairs equalized
  int skipped_clip = 0;    // pairs with a Clip / Relu6 between (not positively homogeneous with one bound)
  int rounds = 0;          // sweeps until the scales converged
  double imbalance_before = 0, imbalance_after = 0;  // mean over pairs of |log(r1_c / r2_c)| over channels
};

// Cross-layer equalization (Nagel et al. 2019, data-free): for each pair Conv A -> act -> Conv B (B group 1, act a
// Relu / LeakyRelu or none, A's output read only by act and act's only by B, constant initializer weights not
// shared), scales A's output channel c by 1 / s_c (weight and bias) and B's input channel c by s_c, s_c =
// sqrt(r1_c / r2_c) with r1 / r2 the max |w| of the two channels, so both ranges become sqrt(r1 r2). The float
// function is unchanged (act(x / s) = act(x) / s for s > 0). Clip / Relu6 between are skipped (a per-channel clip
// bound would be needed). Repeats until the scales are within 1e-3 of 1 (at most 20 sweeps).
Status equalize_cross_layer(ir::Model* m, CleReport* report);

}  // namespace kaiwu::quant
