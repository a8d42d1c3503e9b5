/*
 * Copyright (c) 2024 The Lumen Model Authors. All rights reserved.
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
#include "quant_lumen_decoder_layer.h"

#include <cmath>

#include "layers/parallel_layer_v2.h"
#include "layers/mlp_gate_v2.h"

namespace atb_speed {
namespace lumen {
enum LumenDecoderQuantLayerTensorId : int {
    IN_HIDDEN_STATES = 0,
    IN_INPUT_NORM_WEIGHT,
    IN_QKV_WEIGHT,
    IN_QKV_DEQSCALE,
    IN_QKV_BIAS,
    IN_SELF_OUT_WEIGHT,
    IN_SELF_OUT_DEQSCALE,
    IN_SELF_OUT_QUANT_BIAS,
    IN_SELF_OUT_BIAS,           // only read when hasOutBias
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
    IN_PLACE_HOLDER,

    OUT_LAYER_OUT,

    INTERMEDIATE_INPUT_NORM_OUT,
    INTERMEDIATE_QKV,
    INTERMEDIATE_Q,
    INTERMEDIATE_K,
    INTERMEDIATE_V,
    INTERMEDIATE_ATTENTION_OUT,
    INTERMEDIATE_SELF_OUT_LINEAR_OUT,
    INTERMEDIATE_SELF_RESIDUAL_OUT,
    INTERMEDIATE_POST_NORM_OUT,
    INTERMEDIATE_MLP_OUT,
    // kept last so that it can be left out of internalTensorNum when there is no o_proj bias
    INTERMEDIATE_SELF_OUT_BIAS_OUT,
};

static const uint64_t IN_TENSOR_COUNT = 27;
static const uint64_t OUT_TENSOR_COUNT = 1;
static const uint64_t INTERMEDIATE_TENSOR_COUNT = 11;
static const uint64_t BIAS_INTERMEDIATE_COUNT = 1;

atb::Status LumenDecoderQuantLayer(const LumenDecoderQuantLayerParam &param, atb::Operation **operation)
{
    atb::GraphParam opGraph;
    opGraph.name = "LumenDecoderQuantLayer";
    opGraph.inTensorNum = IN_TENSOR_COUNT;
    opGraph.outTensorNum = OUT_TENSOR_COUNT;
    opGraph.internalTensorNum = param.hasOutBias ? INTERMEDIATE_TENSOR_COUNT :
                                                   INTERMEDIATE_TENSOR_COUNT - BIAS_INTERMEDIATE_COUNT;

    atb::Node inputNormNode;
    atb::infer::RmsNormParam inputNormParam;
    inputNormParam.layerType = atb::infer::RmsNormParam::RmsNormType::RMS_NORM_NORM;
    inputNormParam.normParam.epsilon = param.rmsNormEps;
    inputNormParam.normParam.quantInputScale = param.qkvInputScale;
    inputNormParam.normParam.quantInputOffset = param.qkvInputOffset;
    inputNormParam.normParam.quantType = atb::infer::QUANT_INT8;
    CREATE_OPERATION(inputNormParam, &inputNormNode.operation);
    inputNormNode.inTensorIds = {IN_HIDDEN_STATES, IN_INPUT_NORM_WEIGHT, IN_BETA};
    inputNormNode.outTensorIds = {INTERMEDIATE_INPUT_NORM_OUT};
    opGraph.nodes.push_back(inputNormNode);

    atb::Node qkvLinearNode;
    atb::infer::LinearParam qkvLinearParam;
    qkvLinearParam.transposeB = true;
    qkvLinearParam.hasBias = true;
    qkvLinearParam.linearType = atb::infer::LinearType::LINEAR_INT8INT8_INT32_FP16;
    CREATE_OPERATION(qkvLinearParam, &qkvLinearNode.operation);
    qkvLinearNode.inTensorIds = {INTERMEDIATE_INPUT_NORM_OUT, IN_QKV_WEIGHT, IN_QKV_BIAS, IN_QKV_DEQSCALE};
    qkvLinearNode.outTensorIds = {INTERMEDIATE_QKV};
    opGraph.nodes.push_back(qkvLinearNode);

    atb::Node splitQkvNode;
    atb::infer::SplitParam splitQkvParam;
    splitQkvParam.splitDim = -1;
    splitQkvParam.splitNum = 3;
    CREATE_OPERATION(splitQkvParam, &splitQkvNode.operation);
    splitQkvNode.inTensorIds = {INTERMEDIATE_QKV};
    splitQkvNode.outTensorIds = {INTERMEDIATE_Q, INTERMEDIATE_K, INTERMEDIATE_V};
    opGraph.nodes.push_back(splitQkvNode);

    atb::Node attentionNode;
    atb::infer::SelfAttentionParam attentionParam;
    attentionParam.headNum = param.headNum;
    attentionParam.kvHeadNum = param.kvHeadNum;
    attentionParam.qkScale = 1.0 / std::sqrt(param.dk);
    attentionParam.calcType = atb::infer::SelfAttentionParam::CalcType::DECODER;
    CREATE_OPERATION(attentionParam, &attentionNode.operation);
    attentionNode.inTensorIds = {INTERMEDIATE_Q, INTERMEDIATE_K, INTERMEDIATE_V, IN_K_CACHE, IN_V_CACHE,
                                 IN_ATTENTION_MASK, IN_TOKEN_OFFSET, IN_SEQ_LEN, IN_LAYER_ID};
    attentionNode.outTensorIds = {INTERMEDIATE_ATTENTION_OUT};
    opGraph.nodes.push_back(attentionNode);

    atb::Node selfOutLinearNode;
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
    selfOutLinearNode.inTensorIds = {INTERMEDIATE_ATTENTION_OUT, IN_SELF_OUT_WEIGHT, IN_SELF_OUT_QUANT_BIAS,
                                     IN_SELF_OUT_DEQSCALE, IN_PLACE_HOLDER, IN_PLACE_HOLDER, IN_PLACE_HOLDER};
    selfOutLinearNode.outTensorIds = {INTERMEDIATE_SELF_OUT_LINEAR_OUT};
    opGraph.nodes.push_back(selfOutLinearNode);

    atb::infer::ElewiseParam addParam;
    addParam.elewiseType = atb::infer::ElewiseParam::ElewiseType::ELEWISE_ADD;

    if (param.hasOutBias) {
        // the bias goes in after the row-parallel all-reduce so that it is added once, not once per rank
        atb::Node selfOutBiasAddNode;
        CREATE_OPERATION(addParam, &selfOutBiasAddNode.operation);
        selfOutBiasAddNode.inTensorIds = {INTERMEDIATE_SELF_OUT_LINEAR_OUT, IN_SELF_OUT_BIAS};
        selfOutBiasAddNode.outTensorIds = {INTERMEDIATE_SELF_OUT_BIAS_OUT};
        opGraph.nodes.push_back(selfOutBiasAddNode);
    }

    atb::Node selfResidualAddNode;
    CREATE_OPERATION(addParam, &selfResidualAddNode.operation);
    selfResidualAddNode.inTensorIds = {
        IN_HIDDEN_STATES,
        param.hasOutBias ? INTERMEDIATE_SELF_OUT_BIAS_OUT : INTERMEDIATE_SELF_OUT_LINEAR_OUT,
    };
    selfResidualAddNode.outTensorIds = {INTERMEDIATE_SELF_RESIDUAL_OUT};
    opGraph.nodes.push_back(selfResidualAddNode);

    atb::Node postNormNode;
    atb::infer::RmsNormParam postNormParam;
    postNormParam.layerType = atb::infer::RmsNormParam::RmsNormType::RMS_NORM_NORM;
    postNormParam.normParam.epsilon = param.rmsNormEps;
    postNormParam.normParam.quantInputScale = param.selfLnInputScale;
    postNormParam.normParam.quantInputOffset = param.selfLnInputOffset;
    postNormParam.normParam.quantType = atb::infer::QUANT_INT8;
    CREATE_OPERATION(postNormParam, &postNormNode.operation);
    postNormNode.inTensorIds = {INTERMEDIATE_SELF_RESIDUAL_OUT, IN_POST_NORM_WEIGHT, IN_BETA};
    postNormNode.outTensorIds = {INTERMEDIATE_POST_NORM_OUT};
    opGraph.nodes.push_back(postNormNode);

    atb::Node mlpNode;
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
                           IN_MLP_GATE_BIAS, IN_MLP_DOWN_BIAS, IN_PLACE_HOLDER, IN_PLACE_HOLDER, IN_PLACE_HOLDER,
                           IN_PLACE_HOLDER, IN_PLACE_HOLDER, IN_PLACE_HOLDER, IN_PLACE_HOLDER, IN_PLACE_HOLDER,
                           IN_PLACE_HOLDER};
    mlpNode.outTensorIds = {INTERMEDIATE_MLP_OUT};
    opGraph.nodes.push_back(mlpNode);

    atb::Node mlpResidualAddNode;
    CREATE_OPERATION(addParam, &mlpResidualAddNode.operation);
    mlpResidualAddNode.inTensorIds = {INTERMEDIATE_SELF_RESIDUAL_OUT, INTERMEDIATE_MLP_OUT};
    mlpResidualAddNode.outTensorIds = {OUT_LAYER_OUT};
    opGraph.nodes.push_back(mlpResidualAddNode);

    opGraph.inferShapeFunc = [=](const atb::SVector<atb::TensorDesc> &inTensorDescs,
                                 atb::SVector<atb::TensorDesc> &outTensorDescs) {
        outTensorDescs.at(0) = inTensorDescs.at(0);
        return atb::NO_ERROR;
    };

    CREATE_OPERATION(opGraph, operation);
    return atb::NO_ERROR;
}
} // namespace lumen
} // namespace atb_speed
