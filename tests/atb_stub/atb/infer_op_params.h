// TEST STUB (llm-transform): minimal stand-in for ATB atb/infer_op_params.h.
// Only the op params (and fields) the layer fixtures use, plus the W8A8 / sparse quant API of
// /work/shared/ATB_LAYERS.md section 3. Field order matters where layers use positional brace init.
#ifndef ATB_STUB_ATB_INFER_OP_PARAMS_H
#define ATB_STUB_ATB_INFER_OP_PARAMS_H

#include <cstdint>
#include <string>
#include "atb/types.h"

namespace atb {
namespace infer {
enum ActivationType : int {
    ACTIVATION_UNDEFINED = 0, ACTIVATION_RELU, ACTIVATION_GELU, ACTIVATION_FAST_GELU, ACTIVATION_SWISH,
    ACTIVATION_LOG, ACTIVATION_SWIGLU_FORWARD, ACTIVATION_SWIGLU_BACKWARD,
};
enum QuantType : int { QUANT_UNDEFINED = 0, QUANT_INT8 };
enum LinearType : int { LINEAR_UNDEFINED = 0, LINEAR_INT8INT8_INT32_FP16 };

struct ActivationParam {
    ActivationType activationType = ACTIVATION_UNDEFINED;
    float scale = 1.0f;
};

struct ElewiseParam {
    enum ElewiseType {
        ELEWISE_UNDEFINED = 0, ELEWISE_CAST, ELEWISE_MULS, ELEWISE_COS, ELEWISE_SIN, ELEWISE_NEG,
        ELEWISE_QUANT, ELEWISE_LOGICAL_NOT, ELEWISE_ADD, ELEWISE_MUL, ELEWISE_REALDIV, ELEWISE_SUB,
    };
    struct QuantParam {
        float inputScale = 1.0f;
        int inputOffset = 0;
    };
    struct MulsParam {
        float varAttr = 0.0f;
    };
    ElewiseType elewiseType = ELEWISE_UNDEFINED;
    QuantParam quantParam;
    MulsParam mulsParam;
    aclDataType outTensorType = ACL_DT_UNDEFINED;
};

struct LayerNormParam {
    enum LayerNormType { LAYER_NORM_UNDEFINED = 0, LAYER_NORM_NORM, LAYER_NORM_PRENORM, LAYER_NORM_POSTNORM };
    struct NormParam {
        QuantType quantType = QUANT_UNDEFINED;
        float epsilon = 1e-5f;
        int32_t beginNormAxis = 0;
        int32_t beginParamsAxis = 0;
        float quantInputScale = 1.0f;
        int quantInputOffset = 0;
    };
    LayerNormType layerType = LAYER_NORM_UNDEFINED;
    NormParam normParam;
};

struct RmsNormParam {
    enum RmsNormType { RMS_NORM_UNDEFINED = 0, RMS_NORM_NORM, RMS_NORM_PRENORM, RMS_NORM_POSTNORM };
    struct NormParam {
        QuantType quantType = QUANT_UNDEFINED;
        float epsilon = 1e-5f;
        float quantInputScale = 1.0f;
        int quantInputOffset = 0;
    };
    RmsNormType layerType = RMS_NORM_UNDEFINED;
    NormParam normParam;
};

// Positional brace init {transposeA, transposeB, hasBias} must keep working.
struct LinearParam {
    bool transposeA = false;
    bool transposeB = true;
    bool hasBias = true;
    LinearType linearType = LINEAR_UNDEFINED;
    QuantType quantType = QUANT_UNDEFINED;  // set from the layer param by quant-aware float layers
};

struct LinearQuantParam {
    bool transposeA = false;
    bool transposeB = true;
    bool hasBias = true;
};

// Sparse W8A8 linear: deliberately NO linearType and NO hasBias.
struct LinearSparseParam {
    bool transposeA = false;
    bool transposeB = true;
    uint32_t tilingK = 8;
    uint32_t tilingN = 8;
};

// Linear with a built-in all-reduce (tier D float sites); only the fields the fixtures set.
struct LinearParallelParam {
    bool transWeight = true;
    int rank = 0;
    int rankSize = 1;
    int rankRoot = 0;
    std::string backend = "hccl";
};

struct SelfAttentionParam {
    enum CalcType { UNDEFINED = 0, ENCODER, DECODER, PA_ENCODER };
    enum MaskType { MASK_TYPE_UNDEFINED = 0, MASK_TYPE_NORM, MASK_TYPE_ALIBI };
    int32_t headNum = 0;
    int32_t kvHeadNum = 0;
    int32_t headDim = 0;
    float qScale = 1.0f;
    float qkScale = 1.0f;
    uint32_t isTriuMask = 0;
    CalcType calcType = UNDEFINED;
    MaskType maskType = MASK_TYPE_UNDEFINED;
};

struct PagedAttentionParam {
    enum MaskType { UNDEFINED = 0, MASK_TYPE_NORM, MASK_TYPE_ALIBI };
    int32_t headNum = 0;
    float qkScale = 1.0f;
    int32_t kvHeadNum = 0;
    MaskType maskType = UNDEFINED;
};

struct ReshapeAndCacheParam {};

struct RopeParam {
    int32_t rotaryCoeff = 4;
    int32_t cosFormat = 0;
};

// Positional brace init {splitDim, splitNum}.
struct SplitParam {
    int32_t splitDim = 0;
    int32_t splitNum = 2;
};

struct ConcatParam {
    int concatDim = 0;
};

struct TransposeParam {
    SVector<int32_t> perm;
};

struct AllReduceParam {
    int rank = 0;
    int rankSize = 1;
    int rankRoot = 0;
    std::string allReduceType = "sum";
    std::string backend = "hccl";
    void *hcclComm = nullptr;
};
} // namespace infer
} // namespace atb
#endif
