// TEST STUB (llm-transform): stand-in for the nova model-local rope fusion operation.
#ifndef ATB_STUB_MODELS_NOVA_ROPE_FUSION_OPERATION_H
#define ATB_STUB_MODELS_NOVA_ROPE_FUSION_OPERATION_H
#include "atb/atb_infer.h"

namespace atb_speed {
namespace nova {
struct RopeFusionParam {
    int rotaryCoeff = 4;
    int headNum = 0;
};

atb::Status RopeFusionOperation(const RopeFusionParam &param, atb::Operation **operation);
} // namespace nova
} // namespace atb_speed
#endif
