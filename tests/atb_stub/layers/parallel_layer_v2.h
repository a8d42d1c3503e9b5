// TEST STUB (llm-transform): stand-in for ATB-speed layers/parallel_layer_v2.h (V2 parallel linear,
// with the quant / sparse fields of ATB_LAYERS.md section 3.4 / 3.8).
#ifndef ATB_STUB_LAYERS_PARALLEL_LAYER_V2_H
#define ATB_STUB_LAYERS_PARALLEL_LAYER_V2_H
#include <string>
#include "atb/atb_infer.h"

namespace atb_speed {
namespace common {
struct CommParam {
    int rank = 0;
    int rankSize = 1;
    int rankRoot = 0;
    void *hcclComm = nullptr;
    std::string backend = "hccl";
};

struct QuantParam {
    atb::infer::QuantType quantType = atb::infer::QUANT_UNDEFINED;
    atb::infer::ElewiseParam::ElewiseType elewiseType = atb::infer::ElewiseParam::ELEWISE_UNDEFINED;
    float inputScale = 1.0f;
    int inputOffset = 0;
    bool isQuantOp = false;
};

// Positional brace init {isBias, transposeA, transposeB, isQuant, isSparse}.
struct ParallelParamV2 {
    bool isBias = false;
    bool transposeA = false;
    bool transposeB = true;
    bool isQuant = false;
    bool isSparse = false;
    CommParam commParam;
    QuantParam quantParam;
};

atb::Status RowParallelLinearV2(const ParallelParamV2 &param, atb::Operation **operation);
atb::Status ColumnParallelLinearV2(const ParallelParamV2 &param, atb::Operation **operation);
} // namespace common
} // namespace atb_speed
#endif
