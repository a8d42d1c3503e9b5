/*
 * Copyright (c) 2024 Borealis Team. All rights reserved.
 *
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at
 *
 * http://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */
#include "models/borealis/layer/quant_decoder_layer.h"

#include <cmath>

#include "layers/parallel_layer_v2.h"
#include "layers/mlp_gate_v2.h"

namespace atb_speed {
namespace borealis {
enum DecoderQuantLayerTensorIdx : uint32_t {
    IN_HIDDEN_STATES = 0,         // [batch, seqLen, hiddenSize]
    IN_INPUT_NORM_WEIGHT,
    IN_INPUT_NORM_BIAS,
    IN_Q_WEIGHT,
    IN_Q_BIAS,
    IN_Q_DEQSCALE,
    IN_K_WEIGHT,
    IN_K_BIAS,
    IN_K_DEQSCALE,
    IN_V_WEIGHT,
    IN_V_BIAS,
    IN_V_DEQSCALE,
    IN_SELF_OUT_LINEAR_WEIGHT,
    IN_SELF_OUT_LINEAR_BIAS,
    IN_SELF_OUT_LINEAR_DEQSCALE,
    IN_POST_NORM_WEIGHT,
    IN_POST_NORM_BIAS,
    IN_MLP_UP_WEIGHT,
    IN_MLP_UP_DEQSCALE,
    IN_MLP_UP_BIAS,
    IN_MLP_GATE_WEIGHT,
    IN_MLP_GATE_DEQSCALE,
    IN_MLP_GATE_BIAS,
    IN_MLP_DOWN_WEIGHT,
    IN_MLP_DOWN_DEQSCALE,
    IN_MLP_DOWN_BIAS,
    IN_ATTENTION_MASK,            // alibi mask, 由模型侧生成
    IN_CACHE_K,
    IN_CACHE_V,
    IN_TOKEN_OFFSET,
    IN_SEQ_LEN,
    IN_LAYER_ID,
    IN_HOLDER,
    OUT_LAYER_OUT,
    INTERMEDIATE_INPUT_NORM_OUT,
    INTERMEDIATE_INPUT_NORM_OUT_QUANT,
    INTERMEDIATE_Q,
    INTERMEDIATE_K,
    INTERMEDIATE_V,
    INTERMEDIATE_ATTENTION_OUT,
    INTERMEDIATE_SELF_OUT_LINEAR_OUT,
    INTERMEDIATE_SELF_RESIDUAL_OUT,
    INTERMEDIATE_POST_NORM_OUT,
    INTERMEDIATE_POST_NORM_OUT_QUANT,
    INTERMEDIATE_MLP_OUT
};

static const uint64_t IN_TENSOR_COUNT = 33;
static const uint64_t OUT_TENSOR_COUNT = 1;
static const uint64_t INTERMEDIATE_TENSOR_COUNT = 11;
static const uint64_t NODE_COUNT = 10;
static const uint64_t LAYER_NORM_AXIS_COUNT = 2;

void from_json(const nlohmann::json &paramJson, DecoderQuantLayerParam &param)
{
    paramJson.at("layerNormEps").get_to(param.layerNormEps);
    paramJson.at("headNum").get_to(param.headNum);
    paramJson.at("dk").get_to(param.dk);
    paramJson.at("rank").get_to(param.rank);
    paramJson.at("rankSize").get_to(param.rankSize);
    paramJson.at("qkvInputScale").get_to(param.qkvInputScale);
    paramJson.at("qkvInputOffset").get_to(param.qkvInputOffset);
    paramJson.at("selfLnInputScale").get_to(param.selfLnInputScale);
    paramJson.at("selfLnInputOffset").get_to(param.selfLnInputOffset);
    paramJson.at("denseInputScale").get_to(param.denseInputScale);
    paramJson.at("denseInputOffset").get_to(param.denseInputOffset);
    paramJson.at("ffnOutInputScale").get_to(param.ffnOutInputScale);
    paramJson.at("ffnOutInputOffset").get_to(param.ffnOutInputOffset);
    if (paramJson.contains("kvHeadNum")) {
        paramJson.at("kvHeadNum").get_to(param.kvHeadNum);
    } else {
        param.kvHeadNum = param.headNum;
    }
    if (paramJson.contains("useAlibiMask")) {
        paramJson.at("useAlibiMask").get_to(param.useAlibiMask);
    }
    if (paramJson.contains("transposedWeight")) {
        paramJson.at("transposedWeight").get_to(param.transposedWeight);
    }
    if (paramJson.contains("backend")) {
        paramJson.at("backend").get_to(param.backend);
    }
}

atb::Status DecoderQuantLayer(const DecoderQuantLayerParam &param, atb::Operation **operation)
{
    atb::GraphParam opGraph;
    opGraph.name = "BorealisDecoderLayer";
    opGraph.inTensorNum = IN_TENSOR_COUNT;
    opGraph.outTensorNum = OUT_TENSOR_COUNT;
    opGraph.internalTensorNum = INTERMEDIATE_TENSOR_COUNT;
    opGraph.nodes.resize(NODE_COUNT);

    size_t nodeId = 0;
    atb::Node &inputLayerNormNode = opGraph.nodes.at(nodeId++);
    atb::Node &qLinearNode = opGraph.nodes.at(nodeId++);
    atb::Node &kLinearNode = opGraph.nodes.at(nodeId++);
    atb::Node &vLinearNode = opGraph.nodes.at(nodeId++);
    atb::Node &selfAttentionNode = opGraph.nodes.at(nodeId++);
    atb::Node &selfOutLinearNode = opGraph.nodes.at(nodeId++);
    atb::Node &selfResidualAddNode = opGraph.nodes.at(nodeId++);
    atb::Node &postLayerNormNode = opGraph.nodes.at(nodeId++);
    atb::Node &mlpNode = opGraph.nodes.at(nodeId++);
    atb::Node &mlpResidualAddNode = opGraph.nodes.at(nodeId++);

    // input_layernorm: gamma + beta
    atb::infer::LayerNormParam inputLayerNormParam;
    inputLayerNormParam.layerType = atb::infer::LayerNormParam::LayerNormType::LAYER_NORM_NORM;
    inputLayerNormParam.normParam.epsilon = param.layerNormEps;
    inputLayerNormParam.normParam.beginNormAxis = LAYER_NORM_AXIS_COUNT;
    inputLayerNormParam.normParam.beginParamsAxis = 1;
    inputLayerNormParam.normParam.quantInputScale = param.qkvInputScale;
    inputLayerNormParam.normParam.quantInputOffset = param.qkvInputOffset;
    inputLayerNormParam.normParam.quantType = atb::infer::QUANT_INT8;
    CREATE_OPERATION(inputLayerNormParam, &inputLayerNormNode.operation);
    inputLayerNormNode.inTensorIds = {IN_HIDDEN_STATES, IN_INPUT_NORM_WEIGHT, IN_INPUT_NORM_BIAS};
    inputLayerNormNode.outTensorIds = {INTERMEDIATE_INPUT_NORM_OUT, INTERMEDIATE_INPUT_NORM_OUT_QUANT};

    // q / k / v 三个线性层共用一个带 bias 的参数
    atb::infer::LinearParam qkvLinearParam;
    qkvLinearParam.transposeA = false;
    qkvLinearParam.transposeB = true;
    qkvLinearParam.hasBias = true;
    qkvLinearParam.linearType = atb::infer::LinearType::LINEAR_INT8INT8_INT32_FP16;
    CREATE_OPERATION(qkvLinearParam, &qLinearNode.operation);
    qLinearNode.inTensorIds = {INTERMEDIATE_INPUT_NORM_OUT_QUANT, IN_Q_WEIGHT, IN_Q_BIAS, IN_Q_DEQSCALE};
    qLinearNode.outTensorIds = {INTERMEDIATE_Q};

    CREATE_OPERATION(qkvLinearParam, &kLinearNode.operation);
    kLinearNode.inTensorIds = {INTERMEDIATE_INPUT_NORM_OUT_QUANT, IN_K_WEIGHT, IN_K_BIAS, IN_K_DEQSCALE};
    kLinearNode.outTensorIds = {INTERMEDIATE_K};

    CREATE_OPERATION(qkvLinearParam, &vLinearNode.operation);
    vLinearNode.inTensorIds = {INTERMEDIATE_INPUT_NORM_OUT_QUANT, IN_V_WEIGHT, IN_V_BIAS, IN_V_DEQSCALE};
    vLinearNode.outTensorIds = {INTERMEDIATE_V};

    atb::infer::SelfAttentionParam selfAttentionParam;
    selfAttentionParam.headNum = param.headNum;
    selfAttentionParam.kvHeadNum = param.kvHeadNum;
    selfAttentionParam.qScale = 1.0 / std::sqrt(param.dk);
    selfAttentionParam.qkScale = 1.0;
    selfAttentionParam.maskType = param.useAlibiMask ?
        atb::infer::SelfAttentionParam::MaskType::MASK_TYPE_ALIBI :
        atb::infer::SelfAttentionParam::MaskType::MASK_TYPE_NORM;
    CREATE_OPERATION(selfAttentionParam, &selfAttentionNode.operation);
    selfAttentionNode.inTensorIds = {
        INTERMEDIATE_Q,
        INTERMEDIATE_K,
        INTERMEDIATE_V,
        IN_CACHE_K,
        IN_CACHE_V,
        IN_ATTENTION_MASK,
        IN_TOKEN_OFFSET,
        IN_SEQ_LEN,
        IN_LAYER_ID,
    };
    selfAttentionNode.outTensorIds = {INTERMEDIATE_ATTENTION_OUT};
    selfAttentionNode.inTensorReshapeFuncs.resize(selfAttentionNode.inTensorIds.size());
    selfAttentionNode.inTensorReshapeFuncs.at(0) = [=](const atb::Dims &oldShape, atb::Dims &newShape) {
        // [batch, seqLen, hiddenSize] -> [batch, seqLen, headNum, headDim]
        newShape.dimNum = 4; // 4: batch, seqLen, headNum, headDim
        newShape.dims[0] = oldShape.dims[0];
        newShape.dims[1] = oldShape.dims[1];
        newShape.dims[2] = param.headNum;
        newShape.dims[3] = oldShape.dims[2] / param.headNum;
    };
    selfAttentionNode.inTensorReshapeFuncs.at(1) = [=](const atb::Dims &oldShape, atb::Dims &newShape) {
        newShape.dimNum = 4; // 4: batch, seqLen, kvHeadNum, headDim
        newShape.dims[0] = oldShape.dims[0];
        newShape.dims[1] = oldShape.dims[1];
        newShape.dims[2] = param.kvHeadNum;
        newShape.dims[3] = oldShape.dims[2] / param.kvHeadNum;
    };
    selfAttentionNode.inTensorReshapeFuncs.at(2) = [=](const atb::Dims &oldShape, atb::Dims &newShape) {
        newShape.dimNum = 4; // 4: batch, seqLen, kvHeadNum, headDim
        newShape.dims[0] = oldShape.dims[0];
        newShape.dims[1] = oldShape.dims[1];
        newShape.dims[2] = param.kvHeadNum;
        newShape.dims[3] = oldShape.dims[2] / param.kvHeadNum;
    };

    // dense 层带 bias, 多卡时行切分后做 all reduce
    atb_speed::common::ParallelParamV2 selfOutLinearParam;
    selfOutLinearParam.isBias = true;
    selfOutLinearParam.transposeA = false;
    selfOutLinearParam.transposeB = true;
    selfOutLinearParam.commParam.rank = param.rank;
    selfOutLinearParam.commParam.rankSize = param.rankSize;
    selfOutLinearParam.commParam.backend = param.backend;
    selfOutLinearParam.isQuant = true;
    selfOutLinearParam.quantParam.quantType = atb::infer::QUANT_INT8;
    selfOutLinearParam.quantParam.isQuantOp = true;
    selfOutLinearParam.quantParam.elewiseType = atb::infer::ElewiseParam::ElewiseType::ELEWISE_QUANT;
    selfOutLinearParam.quantParam.inputScale = param.denseInputScale;
    selfOutLinearParam.quantParam.inputOffset = param.denseInputOffset;
    atb_speed::common::RowParallelLinearV2(selfOutLinearParam, &selfOutLinearNode.operation);
    selfOutLinearNode.inTensorIds = {
        INTERMEDIATE_ATTENTION_OUT,
        IN_SELF_OUT_LINEAR_WEIGHT,
        IN_SELF_OUT_LINEAR_BIAS,    // bias 在第 2 个槽位
        IN_SELF_OUT_LINEAR_DEQSCALE,
        IN_HOLDER,
        IN_HOLDER,
        IN_HOLDER,
    };
    selfOutLinearNode.outTensorIds = {INTERMEDIATE_SELF_OUT_LINEAR_OUT};

    atb::infer::ElewiseParam residualAddParam;
    residualAddParam.elewiseType = atb::infer::ElewiseParam::ElewiseType::ELEWISE_ADD;
    CREATE_OPERATION(residualAddParam, &selfResidualAddNode.operation);
    selfResidualAddNode.inTensorIds = {IN_HIDDEN_STATES, INTERMEDIATE_SELF_OUT_LINEAR_OUT};
    selfResidualAddNode.outTensorIds = {INTERMEDIATE_SELF_RESIDUAL_OUT};

    // post_attention_layernorm 使用独立的参数
    atb::infer::LayerNormParam postLayerNormParam;
    postLayerNormParam.layerType = atb::infer::LayerNormParam::LayerNormType::LAYER_NORM_NORM;
    postLayerNormParam.normParam.epsilon = param.layerNormEps;
    postLayerNormParam.normParam.beginNormAxis = LAYER_NORM_AXIS_COUNT;
    postLayerNormParam.normParam.beginParamsAxis = 1;
    postLayerNormParam.normParam.quantInputScale = param.selfLnInputScale;
    postLayerNormParam.normParam.quantInputOffset = param.selfLnInputOffset;
    postLayerNormParam.normParam.quantType = atb::infer::QUANT_INT8;
    CREATE_OPERATION(postLayerNormParam, &postLayerNormNode.operation);
    postLayerNormNode.inTensorIds = {INTERMEDIATE_SELF_RESIDUAL_OUT, IN_POST_NORM_WEIGHT, IN_POST_NORM_BIAS};
    postLayerNormNode.outTensorIds = {INTERMEDIATE_POST_NORM_OUT, INTERMEDIATE_POST_NORM_OUT_QUANT};

    atb_speed::common::MlpGateParamV2 mlpParam;
    mlpParam.activationType = atb::infer::ActivationType::ACTIVATION_GELU;
    mlpParam.transposeB = true;
    mlpParam.isBias = true;
    mlpParam.isPack = false;
    mlpParam.commDownParam.rank = param.rank;
    mlpParam.commDownParam.rankSize = param.rankSize;
    mlpParam.commDownParam.backend = param.backend;
    mlpParam.isQuant = true;
    mlpParam.quantUpParam.quantType = atb::infer::QUANT_INT8;
    mlpParam.quantUpParam.isQuantOp = false;
    mlpParam.quantGateParam.quantType = atb::infer::QUANT_INT8;
    mlpParam.quantGateParam.isQuantOp = false;
    mlpParam.quantDownParam.quantType = atb::infer::QUANT_INT8;
    mlpParam.quantDownParam.elewiseType = atb::infer::ElewiseParam::ElewiseType::ELEWISE_QUANT;
    mlpParam.quantDownParam.inputScale = param.ffnOutInputScale;
    mlpParam.quantDownParam.inputOffset = param.ffnOutInputOffset;
    atb_speed::common::MlpGateLayerV2(mlpParam, &mlpNode.operation);
    mlpNode.inTensorIds = {INTERMEDIATE_POST_NORM_OUT_QUANT, IN_MLP_UP_WEIGHT, IN_MLP_GATE_WEIGHT, IN_MLP_DOWN_WEIGHT,
                           IN_MLP_UP_DEQSCALE, IN_MLP_GATE_DEQSCALE, IN_MLP_DOWN_DEQSCALE,   // deqscale up / gate / down
                           IN_MLP_UP_BIAS, IN_MLP_GATE_BIAS, IN_MLP_DOWN_BIAS,   // bias up / gate / down
                           IN_HOLDER, IN_HOLDER, IN_HOLDER,   // index up / gate / down
                           IN_HOLDER, IN_HOLDER, IN_HOLDER,   // offsetx up / gate / down
                           IN_HOLDER, IN_HOLDER, IN_HOLDER};  // compressinfo up / gate / down
    mlpNode.outTensorIds = {INTERMEDIATE_MLP_OUT};

    CREATE_OPERATION(residualAddParam, &mlpResidualAddNode.operation);
    mlpResidualAddNode.inTensorIds = {INTERMEDIATE_SELF_RESIDUAL_OUT, INTERMEDIATE_MLP_OUT};
    mlpResidualAddNode.outTensorIds = {OUT_LAYER_OUT};

    opGraph.inferShapeFunc = [](const atb::SVector<atb::TensorDesc> &inTensorDescs,
                                atb::SVector<atb::TensorDesc> &outTensorDescs) {
        outTensorDescs.at(0) = inTensorDescs.at(0);
        return atb::NO_ERROR;
    };

    CREATE_OPERATION(opGraph, operation);
    return atb::NO_ERROR;
}

atb::Operation *CreateDecoderQuantLayer(const nlohmann::json &paramJson)
{
    atb::Operation *op = nullptr;
    atb::Status status = DecoderQuantLayer(paramJson.get<DecoderQuantLayerParam>(), &op);
    if (status != atb::NO_ERROR) {
        ATB_LOG(ERROR) << "borealis DecoderQuantLayer create failed, status: " << status;
        return nullptr;
    }
    return op;
}

DecoderQuantLayerHostBinder::DecoderQuantLayerHostBinder() {}

DecoderQuantLayerHostBinder::~DecoderQuantLayerHostBinder() {}

void DecoderQuantLayerHostBinder::ParseParam(const nlohmann::json &paramJson)
{
    tokenOffset_.clear();
    for (const auto &item : paramJson["tokenOffset"]) {
        tokenOffset_.push_back(item.get<int>());
    }

    seqLen_.clear();
    for (const auto &item : paramJson["seqLen"]) {
        seqLen_.push_back(item.get<int>());
    }
}

void DecoderQuantLayerHostBinder::BindTensor(atb::VariantPack &variantPack)
{
    const uint32_t tokenOffsetTensorId = IN_TOKEN_OFFSET;
    const uint32_t seqLenTensorId = IN_SEQ_LEN;
    variantPack.inTensors.at(tokenOffsetTensorId).hostData = tokenOffset_.data();
    variantPack.inTensors.at(seqLenTensorId).hostData = seqLen_.data();
}
} // namespace borealis
} // namespace atb_speed
