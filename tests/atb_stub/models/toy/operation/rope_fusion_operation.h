// TEST STUB (llm-transform): stand-in for the toy model-local rope fusion operation.
#ifndef ATB_STUB_MODELS_TOY_ROPE_FUSION_OPERATION_H
#define ATB_STUB_MODELS_TOY_ROPE_FUSION_OPERATION_H
#include "atb/atb_infer.h"

namespace atb_speed {
namespace toy {
struct RopeFusionParam {
    int rotaryCoeff = 4;
    int headNum = 0;
};

atb::Status RopeFusionOperation(const RopeFusionParam &param, atb::Operation **operation);
} // namespace toy
} // namespace atb_speed
#endif
