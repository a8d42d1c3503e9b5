// TEST STUB (llm-transform): an OLDER ATB-speed layers/mlp_gate_v2.h, from before sparse support: the same
// gated MLP V2 as tests/atb_stub/layers/mlp_gate_v2.h without `isSparse`. Used to check that the verifier
// reads the fields of the headers the user has (-I).
#ifndef ATB_STUB_LAYERS_MLP_GATE_V2_H
#define ATB_STUB_LAYERS_MLP_GATE_V2_H
#include "atb/atb_infer.h"
#include "layers/parallel_layer_v2.h"

namespace atb_speed {
namespace common {
struct MlpGateParamV2 {
    atb::infer::ActivationType activationType = atb::infer::ACTIVATION_UNDEFINED;
    bool transposeB = false;
    bool isBias = false;
    bool isPack = false;
    bool isQuant = false;
    bool noGate = false;
    CommParam commDownParam;
    QuantParam quantUpParam;
    QuantParam quantGateParam;
    QuantParam quantDownParam;
};

atb::Status MlpGateLayerV2(const MlpGateParamV2 &param, atb::Operation **operation);
} // namespace common
} // namespace atb_speed
#endif
