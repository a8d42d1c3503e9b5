/*
 * Copyright (c) 2024 The Orca Model Authors. All rights reserved.
 *
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at
 *
 *     http://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */
#include "quant_orca_decoder_layer.h"

#include <cmath>

#include "layers/parallel_layer_v2.h"
#include "layers/mlp_gate_v2.h"

namespace atb_speed {
namespace orca {
enum OrcaDecoderQuantLayerTensorId : int {
    IN_HIDDEN_STATES = 0,
    IN_INPUT_NORM_WEIGHT,
    IN_Q_WEIGHT,
    IN_Q_DEQSCALE,
    IN_Q_BIAS,
    IN_K_WEIGHT,
    IN_K_DEQSCALE,
    IN_K_BIAS,
    IN_V_WEIGHT,
    IN_V_DEQSCALE,
    IN_V_BIAS,
    IN_SELF_OUT_WEIGHT,
    IN_SELF_OUT_DEQSCALE,
    IN_SELF_OUT_BIAS,
    IN_POST_NORM_WEIGHT,
    IN_MLP_UP_WEIGHT,
    IN_MLP_UP_DEQSCALE,
    IN_MLP_UP_BIAS,
    IN_MLP_GATE_WEIGHT,
    IN_MLP_GATE_DEQSCALE,
    IN_MLP_GATE_BIAS,
    IN_MLP_DOWN_WEIGHT,
    IN_MLP_DOWN_DEQSCALE,
    IN_MLP_DOWN_BIAS,
    IN_ATTENTION_MASK,
    IN_K_CACHE,
    IN_V_CACHE,
    IN_TOKEN_OFFSET,
    IN_SEQ_LEN,
    IN_LAYER_ID,
    IN_BETA,
    IN_HOLDER,

    OUT_LAYER_OUT,

    INTERMEDIATE_INPUT_NORM_OUT,
    INTERMEDIATE_Q,
    INTERMEDIATE_K,
    INTERMEDIATE_V,
    INTERMEDIATE_ATTENTION_OUT,
    INTERMEDIATE_SELF_OUT,
    INTERMEDIATE_SELF_RESIDUAL_OUT,
    INTERMEDIATE_POST_NORM_OUT,
    INTERMEDIATE_MLP_OUT,
};

static const uint64_t IN_TENSOR_COUNT = 32;
static const uint64_t OUT_TENSOR_COUNT = 1;
static const uint64_t INTERMEDIATE_TENSOR_COUNT = 9;
static const uint64_t NODE_COUNT = 10;

// Fills the attention node handed in by the layer: its own param, operation and tensor lists.
static atb::Status AddSelfAttention(atb::Node &node, const OrcaQuantLayerParam &param)
{
    atb::infer::SelfAttentionParam selfAttentionParam;
    selfAttentionParam.headNum = param.headNum;
    selfAttentionParam.kvHeadNum = param.kvHeadNum;
    selfAttentionParam.qScale = 1.0;
    selfAttentionParam.qkScale = 1.0 / std::sqrt(param.dk);
    selfAttentionParam.maskType = atb::infer::SelfAttentionParam::MaskType::MASK_TYPE_NORM;
    CREATE_OPERATION(selfAttentionParam, &node.operation);
    node.inTensorIds = {INTERMEDIATE_Q, INTERMEDIATE_K, INTERMEDIATE_V, IN_K_CACHE, IN_V_CACHE,
                        IN_ATTENTION_MASK, IN_TOKEN_OFFSET, IN_SEQ_LEN, IN_LAYER_ID};
    node.outTensorIds = {INTERMEDIATE_ATTENTION_OUT};
    return atb::NO_ERROR;
}

// Fills the gated MLP node; the caller names its node differently.
static atb::Status AddMlp(atb::Node &mlpNode, const OrcaQuantLayerParam &param)
{
    atb_speed::common::MlpGateParamV2 mlpParam;
    mlpParam.activationType = atb::infer::ActivationType::ACTIVATION_SWISH;
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
    mlpNode.inTensorIds = {INTERMEDIATE_POST_NORM_OUT, IN_MLP_UP_WEIGHT, IN_MLP_GATE_WEIGHT, IN_MLP_DOWN_WEIGHT,
                           IN_MLP_UP_DEQSCALE, IN_MLP_GATE_DEQSCALE, IN_MLP_DOWN_DEQSCALE, IN_MLP_UP_BIAS,
                           IN_MLP_GATE_BIAS, IN_MLP_DOWN_BIAS, IN_HOLDER, IN_HOLDER, IN_HOLDER, IN_HOLDER,
                           IN_HOLDER, IN_HOLDER, IN_HOLDER, IN_HOLDER, IN_HOLDER};
    mlpNode.outTensorIds = {INTERMEDIATE_MLP_OUT};
    return atb::NO_ERROR;
}

atb::Status OrcaDecoderQuantLayer(const OrcaQuantLayerParam &param, atb::Operation **operation)
{
    atb::GraphParam opGraph;
    opGraph.inTensorNum = IN_TENSOR_COUNT;
    opGraph.outTensorNum = OUT_TENSOR_COUNT;
    opGraph.internalTensorNum = INTERMEDIATE_TENSOR_COUNT;
    opGraph.nodes.resize(NODE_COUNT);
    opGraph.name = "OrcaDecoderQuantLayer";

    size_t nodeId = 0;
    atb::Node &inputNormNode = opGraph.nodes.at(nodeId++);
    atb::Node &qLinearNode = opGraph.nodes.at(nodeId++);
    atb::Node &kLinearNode = opGraph.nodes.at(nodeId++);
    atb::Node &vLinearNode = opGraph.nodes.at(nodeId++);
    atb::Node &attentionNode = opGraph.nodes.at(nodeId++);
    atb::Node &selfOutLinearNode = opGraph.nodes.at(nodeId++);
    atb::Node &selfResidualAddNode = opGraph.nodes.at(nodeId++);
    atb::Node &postNormNode = opGraph.nodes.at(nodeId++);
    atb::Node &feedForwardNode = opGraph.nodes.at(nodeId++);
    atb::Node &mlpResidualAddNode = opGraph.nodes.at(nodeId++);

    atb::infer::RmsNormParam inputNormParam;
    inputNormParam.layerType = atb::infer::RmsNormParam::RmsNormType::RMS_NORM_NORM;
    inputNormParam.normParam.epsilon = param.rmsNormEps;
    inputNormParam.normParam.quantInputScale = param.qkvInputScale;
    inputNormParam.normParam.quantInputOffset = param.qkvInputOffset;
    inputNormParam.normParam.quantType = atb::infer::QUANT_INT8;
    CREATE_OPERATION(inputNormParam, &inputNormNode.operation);
    inputNormNode.inTensorIds = {IN_HIDDEN_STATES, IN_INPUT_NORM_WEIGHT, IN_BETA};
    inputNormNode.outTensorIds = {INTERMEDIATE_INPUT_NORM_OUT};

    atb::infer::LinearParam qLinearParam;
    qLinearParam.transposeB = true;
    qLinearParam.hasBias = true;
    qLinearParam.linearType = atb::infer::LinearType::LINEAR_INT8INT8_INT32_FP16;
    CREATE_OPERATION(qLinearParam, &qLinearNode.operation);
    qLinearNode.inTensorIds = {INTERMEDIATE_INPUT_NORM_OUT, IN_Q_WEIGHT, IN_Q_BIAS, IN_Q_DEQSCALE};
    qLinearNode.outTensorIds = {INTERMEDIATE_Q};

    atb::infer::LinearParam kLinearParam;
    kLinearParam.transposeB = true;
    kLinearParam.hasBias = true;
    kLinearParam.linearType = atb::infer::LinearType::LINEAR_INT8INT8_INT32_FP16;
    CREATE_OPERATION(kLinearParam, &kLinearNode.operation);
    kLinearNode.inTensorIds = {INTERMEDIATE_INPUT_NORM_OUT, IN_K_WEIGHT, IN_K_BIAS, IN_K_DEQSCALE};
    kLinearNode.outTensorIds = {INTERMEDIATE_K};

    atb::infer::LinearParam vLinearParam;
    vLinearParam.transposeB = true;
    vLinearParam.hasBias = true;
    vLinearParam.linearType = atb::infer::LinearType::LINEAR_INT8INT8_INT32_FP16;
    CREATE_OPERATION(vLinearParam, &vLinearNode.operation);
    vLinearNode.inTensorIds = {INTERMEDIATE_INPUT_NORM_OUT, IN_V_WEIGHT, IN_V_BIAS, IN_V_DEQSCALE};
    vLinearNode.outTensorIds = {INTERMEDIATE_V};

    CHECK_OPERATION_STATUS_RETURN(AddSelfAttention(attentionNode, param));

    atb_speed::common::ParallelParamV2 selfOutLinearParam;
    selfOutLinearParam.isBias = true;
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
    selfOutLinearNode.inTensorIds = {INTERMEDIATE_ATTENTION_OUT, IN_SELF_OUT_WEIGHT, IN_SELF_OUT_BIAS,
                                     IN_SELF_OUT_DEQSCALE, IN_HOLDER, IN_HOLDER, IN_HOLDER};
    selfOutLinearNode.outTensorIds = {INTERMEDIATE_SELF_OUT};

    atb::infer::ElewiseParam selfAddParam;
    selfAddParam.elewiseType = atb::infer::ElewiseParam::ElewiseType::ELEWISE_ADD;
    CREATE_OPERATION(selfAddParam, &selfResidualAddNode.operation);
    selfResidualAddNode.inTensorIds = {IN_HIDDEN_STATES, INTERMEDIATE_SELF_OUT};
    selfResidualAddNode.outTensorIds = {INTERMEDIATE_SELF_RESIDUAL_OUT};

    atb::infer::RmsNormParam postNormParam;
    postNormParam.layerType = atb::infer::RmsNormParam::RmsNormType::RMS_NORM_NORM;
    postNormParam.normParam.epsilon = param.rmsNormEps;
    postNormParam.normParam.quantInputScale = param.selfLnInputScale;
    postNormParam.normParam.quantInputOffset = param.selfLnInputOffset;
    postNormParam.normParam.quantType = atb::infer::QUANT_INT8;
    CREATE_OPERATION(postNormParam, &postNormNode.operation);
    postNormNode.inTensorIds = {INTERMEDIATE_SELF_RESIDUAL_OUT, IN_POST_NORM_WEIGHT, IN_BETA};
    postNormNode.outTensorIds = {INTERMEDIATE_POST_NORM_OUT};

    AddMlp(feedForwardNode, param);

    atb::infer::ElewiseParam mlpAddParam;
    mlpAddParam.elewiseType = atb::infer::ElewiseParam::ElewiseType::ELEWISE_ADD;
    CREATE_OPERATION(mlpAddParam, &mlpResidualAddNode.operation);
    mlpResidualAddNode.inTensorIds = {INTERMEDIATE_SELF_RESIDUAL_OUT, INTERMEDIATE_MLP_OUT};
    mlpResidualAddNode.outTensorIds = {OUT_LAYER_OUT};

    opGraph.inferShapeFunc = [=](const atb::SVector<atb::TensorDesc> &inTensorDescs,
                                 atb::SVector<atb::TensorDesc> &outTensorDescs) {
        outTensorDescs.at(0) = inTensorDescs.at(0);
        return atb::NO_ERROR;
    };

    CREATE_OPERATION(opGraph, operation);
    return atb::NO_ERROR;
}
} // namespace orca
} // namespace atb_speed
