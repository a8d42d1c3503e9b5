// TEST STUB (llm-transform): stand-in for the telechat model-local parallel linear V2
// (5 input slots: x, weight, bias, deqscale, holder). No isSparse.
#ifndef ATB_STUB_MODELS_TELECHAT_PARALLEL_LINEAR_V2_H
#define ATB_STUB_MODELS_TELECHAT_PARALLEL_LINEAR_V2_H
#include "atb/atb_infer.h"
#include "layers/parallel_layer_v2.h"

namespace atb_speed {
namespace telechat {
using atb_speed::common::CommParam;   // stub: reuse the common comm/quant sub-params
using atb_speed::common::QuantParam;

struct ParallelParamV2 {
    bool isBias = false;
    bool transposeA = false;
    bool transposeB = true;
    bool isQuant = false;
    CommParam commParam;
    QuantParam quantParam;
};

atb::Status RowParallelLinearV2(const ParallelParamV2 &param, atb::Operation **operation);
} // namespace telechat
} // namespace atb_speed
#endif
