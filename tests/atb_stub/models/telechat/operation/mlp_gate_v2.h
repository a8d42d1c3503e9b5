// TEST STUB (llm-transform): stand-in for the telechat model-local gated MLP V2
// (13 input slots; per-linear isUpQuant / isGateQuant / isDownQuant instead of isQuant).
#ifndef ATB_STUB_MODELS_TELECHAT_MLP_GATE_V2_H
#define ATB_STUB_MODELS_TELECHAT_MLP_GATE_V2_H
#include "atb/atb_infer.h"
#include "models/telechat/operation/parallel_linear_v2.h"

namespace atb_speed {
namespace telechat {
struct MlpGateParamV2 {
    atb::infer::ActivationType activationType = atb::infer::ACTIVATION_UNDEFINED;
    bool transposeB = false;
    bool isBias = false;
    bool isPack = false;
    bool isUpQuant = false;
    bool isGateQuant = false;
    bool isDownQuant = false;
    CommParam commDownParam;
    QuantParam quantUpParam;
    QuantParam quantGateParam;
    QuantParam quantDownParam;
};

atb::Status MlpGateLayerV2(const MlpGateParamV2 &param, atb::Operation **operation);
} // namespace telechat
} // namespace atb_speed
#endif
