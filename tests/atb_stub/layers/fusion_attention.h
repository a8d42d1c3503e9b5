// TEST STUB (llm-transform): stand-in for ATB-speed layers/fusion_attention.h (FTWithROPEParam +
// FusionAttention object whose Attention() method creates the op).
#ifndef ATB_STUB_LAYERS_FUSION_ATTENTION_H
#define ATB_STUB_LAYERS_FUSION_ATTENTION_H
#include <string>
#include "atb/atb_infer.h"
#include "layers/parallel_layer.h"

namespace atb_speed {
namespace common {
struct FTWithROPEParam {
    bool isGroupedQueryAttention = false;
    int rotaryCoeff = 2;
    atb::infer::SelfAttentionParam selfAttentionKvCacheParam;
    atb_speed::common::ParallelParam selfOutLinearParallelParam;
};

class FusionAttention {
public:
    atb::Status Attention(const FTWithROPEParam &param, atb::Operation **operation);
};
} // namespace common
} // namespace atb_speed
#endif
