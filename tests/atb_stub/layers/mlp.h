// TEST STUB (llm-transform): stand-in for ATB-speed layers/mlp.h (plain MlpParam + Mlp).
#ifndef ATB_STUB_LAYERS_MLP_H
#define ATB_STUB_LAYERS_MLP_H
#include <string>
#include "atb/atb_infer.h"

namespace atb_speed {
namespace common {
struct MlpParam {
    int rank = 0;
    int rankSize = 1;
    int rankRoot = 0;
    void *hcclComm = nullptr;
    std::string backend = "hccl";
    atb::infer::ActivationType activationType = atb::infer::ACTIVATION_UNDEFINED;
    bool transpose = true;
    bool isBias = false;
};

atb::Status Mlp(const MlpParam &param, atb::Operation **operation);
} // namespace common
} // namespace atb_speed
#endif
