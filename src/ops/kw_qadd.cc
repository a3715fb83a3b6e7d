// kaiwu.QAdd (A, A_scale, A_zero_point, B, B_scale, B_zero_point, Y_scale, Y_zero_point), like
// com.microsoft.QLinearAdd: y = sat(rne(fmaf(a - za, A_scale / Y_scale, (b - zb) * (B_scale / Y_scale))) + zy) with
// numpy broadcasting; int8 / uint8 / int16 (A and B of one type, Y of Y_zero_point's type).
#include "ops/kw_qcommon.h"

namespace kaiwu::ops {
namespace {
Status infer(InferContext& ctx) { return infer_qbinary(ctx, false); }
Status create(const KernelInit& init, std::unique_ptr<Kernel>* out) { return create_qbinary(init, false, out); }
}  // namespace
extern const OpDef kOp_KwQAdd = {"QAdd", "kaiwu", infer, create};
}  // namespace kaiwu::ops
