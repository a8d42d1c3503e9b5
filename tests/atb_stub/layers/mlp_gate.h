// TEST STUB (llm-transform): stand-in for ATB-speed layers/mlp_gate.h (V1: no quant fields).
#ifndef ATB_STUB_LAYERS_MLP_GATE_H
#define ATB_STUB_LAYERS_MLP_GATE_H
#include <string>
#include "atb/atb_infer.h"

namespace atb_speed {
namespace common {
struct MlpGateParam {
    int rank = 0;
    int rankSize = 1;
    int rankRoot = 0;
    void *hcclComm = nullptr;
    atb::infer::ActivationType activationType = atb::infer::ACTIVATION_UNDEFINED;
    bool transposeB = false;
    bool isBias = false;
    bool isPack = false;
    bool isBF16 = false;   // V1 only: the V2 types have no isBF16
    std::string backend = "hccl";
};

atb::Status MlpGateLayer(const MlpGateParam &param, atb::Operation **operation);
} // namespace common
} // namespace atb_speed
#endif
