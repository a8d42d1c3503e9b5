// TEST STUB (llm-transform): stand-in for the telechat model-local rope operation.
#ifndef ATB_STUB_MODELS_TELECHAT_ROPE_H
#define ATB_STUB_MODELS_TELECHAT_ROPE_H
#include "atb/atb_infer.h"

namespace atb_speed {
namespace telechat {
struct RopeParam {
    int rotaryCoeff = 4;
    int headNum = 0;
};

atb::Status Rope(const RopeParam &param, atb::Operation **operation);
} // namespace telechat
} // namespace atb_speed
#endif
