// TEST STUB (llm-transform): stand-in for ATB-speed layers/parallel_layer.h (V1: no quant fields).
#ifndef ATB_STUB_LAYERS_PARALLEL_LAYER_H
#define ATB_STUB_LAYERS_PARALLEL_LAYER_H
#include <string>
#include "atb/atb_infer.h"

namespace atb_speed {
namespace common {
struct ParallelParam {
    int rank = 0;
    int rankSize = 1;
    int rankRoot = 0;
    void *hcclComm = nullptr;
    bool isBias = false;
    bool transposeA = false;
    bool transposeB = true;
    bool isBF16 = false;   // V1 only: the V2 types have no isBF16
    std::string backend = "hccl";
};

atb::Status RowParallelLinear(const ParallelParam &param, atb::Operation **operation);
atb::Status ColumnParallelLinear(const ParallelParam &param, atb::Operation **operation);
} // namespace common
} // namespace atb_speed
#endif
