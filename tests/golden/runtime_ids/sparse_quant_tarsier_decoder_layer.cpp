/*
 * Copyright (c) 2024 The Tarsier Model Authors. All rights reserved.
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
#include "sparse_quant_tarsier_decoder_layer.h"

#include <cmath>

#include "layers/parallel_layer_v2.h"
#include "layers/mlp_gate_v2.h"

namespace atb_speed {
namespace tarsier {
atb::Status TarsierDecoderSparseQuantLayer(const TarsierSparseQuantLayerParam &param, atb::Operation **operation)
{
    atb::GraphParam opGraph;
    opGraph.name = "TarsierDecoderSparseQuantLayer";

    // tensor ids are handed out at run time, in order: inputs, outputs, intermediates
    uint64_t TENSOR_ID = 0;
    const uint64_t IN_HIDDEN_STATES = TENSOR_ID++;
    const uint64_t IN_INPUT_NORM_WEIGHT = TENSOR_ID++;
    const uint64_t IN_QKV_WEIGHT = TENSOR_ID++;
    const uint64_t IN_QKV_DEQSCALE = TENSOR_ID++;
    const uint64_t IN_QKV_QUANT_BIAS = TENSOR_ID++;
    const uint64_t IN_QKV_INDEX = TENSOR_ID++;
    const uint64_t IN_QKV_BIAS = param.hasQkvBias ? TENSOR_ID++ : 0;
    const uint64_t IN_SELF_OUT_WEIGHT = TENSOR_ID++;
    const uint64_t IN_SELF_OUT_DEQSCALE = TENSOR_ID++;
    const uint64_t IN_SELF_OUT_BIAS = TENSOR_ID++;
    const uint64_t IN_SELF_OUT_INDEX = TENSOR_ID++;
    const uint64_t IN_POST_NORM_WEIGHT = TENSOR_ID++;
    const uint64_t IN_MLP_UP_WEIGHT = TENSOR_ID++;
    const uint64_t IN_MLP_UP_DEQSCALE = TENSOR_ID++;
    const uint64_t IN_MLP_UP_BIAS = TENSOR_ID++;
    const uint64_t IN_MLP_UP_INDEX = TENSOR_ID++;
    const uint64_t IN_MLP_GATE_WEIGHT = TENSOR_ID++;
    const uint64_t IN_MLP_GATE_DEQSCALE = TENSOR_ID++;
    const uint64_t IN_MLP_GATE_BIAS = TENSOR_ID++;
    const uint64_t IN_MLP_GATE_INDEX = TENSOR_ID++;
    const uint64_t IN_MLP_DOWN_WEIGHT = TENSOR_ID++;
    const uint64_t IN_MLP_DOWN_DEQSCALE = TENSOR_ID++;
    const uint64_t IN_MLP_DOWN_BIAS = TENSOR_ID++;
    const uint64_t IN_MLP_DOWN_INDEX = TENSOR_ID++;
    const uint64_t IN_ATTENTION_MASK = TENSOR_ID++;
    const uint64_t IN_K_CACHE = TENSOR_ID++;
    const uint64_t IN_V_CACHE = TENSOR_ID++;
    const uint64_t IN_TOKEN_OFFSET = TENSOR_ID++;
    const uint64_t IN_SEQ_LEN = TENSOR_ID++;
    const uint64_t IN_LAYER_ID = TENSOR_ID++;
    const uint64_t IN_BETA = TENSOR_ID++;
    const uint64_t IN_HOLDER = TENSOR_ID++;
    opGraph.inTensorNum = static_cast<uint32_t>(TENSOR_ID);

    const uint64_t OUT_LAYER_OUT = TENSOR_ID++;
    opGraph.outTensorNum = static_cast<uint32_t>(TENSOR_ID - opGraph.inTensorNum);

    const uint64_t INTERMEDIATE_INPUT_NORM_OUT = TENSOR_ID++;
    const uint64_t INTERMEDIATE_QKV_NO_BIAS = param.hasQkvBias ? TENSOR_ID++ : 0;
    const uint64_t INTERMEDIATE_QKV = TENSOR_ID++;
    const uint64_t INTERMEDIATE_Q = TENSOR_ID++;
    const uint64_t INTERMEDIATE_K = TENSOR_ID++;
    const uint64_t INTERMEDIATE_V = TENSOR_ID++;
    const uint64_t INTERMEDIATE_ATTENTION_OUT = TENSOR_ID++;
    const uint64_t INTERMEDIATE_SELF_OUT = TENSOR_ID++;
    const uint64_t INTERMEDIATE_SELF_RESIDUAL_OUT = TENSOR_ID++;
    const uint64_t INTERMEDIATE_POST_NORM_OUT = TENSOR_ID++;
    const uint64_t INTERMEDIATE_MLP_OUT = TENSOR_ID++;
    opGraph.internalTensorNum = static_cast<uint32_t>(TENSOR_ID - opGraph.inTensorNum - opGraph.outTensorNum);

    opGraph.nodes.resize(param.hasQkvBias ? 10 : 9);
    size_t nodeId = 0;

    {
        atb::Node &opNode = opGraph.nodes.at(nodeId++);
        atb::infer::RmsNormParam normParam;
        normParam.layerType = atb::infer::RmsNormParam::RmsNormType::RMS_NORM_NORM;
        normParam.normParam.epsilon = param.rmsNormEps;
        normParam.normParam.quantInputScale = param.qkvInputScale;
        normParam.normParam.quantInputOffset = param.qkvInputOffset;
        normParam.normParam.quantType = atb::infer::QUANT_INT8;
        CREATE_OPERATION(normParam, &opNode.operation);
        opNode.inTensorIds = {IN_HIDDEN_STATES, IN_INPUT_NORM_WEIGHT, IN_BETA};
        opNode.outTensorIds = {INTERMEDIATE_INPUT_NORM_OUT};
    }
    {
        atb::Node &opNode = opGraph.nodes.at(nodeId++);
        atb::infer::LinearSparseParam linearParam = {false, true, 8, 8};
            // the bias, if any, is a separate node below
        CREATE_OPERATION(linearParam, &opNode.operation);
        opNode.inTensorIds = {INTERMEDIATE_INPUT_NORM_OUT, IN_QKV_WEIGHT, IN_QKV_QUANT_BIAS, IN_QKV_DEQSCALE,
                              IN_QKV_INDEX};
        opNode.outTensorIds = {param.hasQkvBias ? INTERMEDIATE_QKV_NO_BIAS : INTERMEDIATE_QKV};
    }
    if (param.hasQkvBias) {
        atb::Node &opNode = opGraph.nodes.at(nodeId++);
        atb::infer::ElewiseParam biasAddParam;
        biasAddParam.elewiseType = atb::infer::ElewiseParam::ElewiseType::ELEWISE_ADD;
        CREATE_OPERATION(biasAddParam, &opNode.operation);
        opNode.inTensorIds = {INTERMEDIATE_QKV_NO_BIAS, IN_QKV_BIAS};
        opNode.outTensorIds = {INTERMEDIATE_QKV};
    }
    {
        atb::Node &opNode = opGraph.nodes.at(nodeId++);
        atb::infer::SplitParam splitParam = {-1, 3};
        CREATE_OPERATION(splitParam, &opNode.operation);
        opNode.inTensorIds = {INTERMEDIATE_QKV};
        opNode.outTensorIds = {INTERMEDIATE_Q, INTERMEDIATE_K, INTERMEDIATE_V};
    }
    {
        atb::Node &opNode = opGraph.nodes.at(nodeId++);
        atb::infer::SelfAttentionParam attentionParam;
        attentionParam.headNum = param.headNum;
        attentionParam.kvHeadNum = param.kvHeadNum;
        attentionParam.qkScale = 1.0 / std::sqrt(param.dk);
        attentionParam.isTriuMask = 1;
        CREATE_OPERATION(attentionParam, &opNode.operation);
        opNode.inTensorIds = {INTERMEDIATE_Q, INTERMEDIATE_K, INTERMEDIATE_V, IN_K_CACHE, IN_V_CACHE,
                              IN_ATTENTION_MASK, IN_TOKEN_OFFSET, IN_SEQ_LEN, IN_LAYER_ID};
        opNode.outTensorIds = {INTERMEDIATE_ATTENTION_OUT};
    }
    {
        atb::Node &opNode = opGraph.nodes.at(nodeId++);
        // same variable name as the qkv block above, different type: each block has its own scope
        atb_speed::common::ParallelParamV2 linearParam;
        linearParam.isBias = true;
        linearParam.transposeB = true;
        linearParam.commParam.rank = param.rank;
        linearParam.commParam.rankSize = param.rankSize;
        linearParam.commParam.backend = param.backend;
        linearParam.isQuant = true;
        linearParam.quantParam.quantType = atb::infer::QUANT_INT8;
        linearParam.quantParam.isQuantOp = true;
        linearParam.quantParam.elewiseType = atb::infer::ElewiseParam::ElewiseType::ELEWISE_QUANT;
        linearParam.quantParam.inputScale = param.denseInputScale;
        linearParam.quantParam.inputOffset = param.denseInputOffset;
        linearParam.isSparse = true;
        atb_speed::common::RowParallelLinearV2(linearParam, &opNode.operation);
        opNode.inTensorIds = {INTERMEDIATE_ATTENTION_OUT, IN_SELF_OUT_WEIGHT, IN_SELF_OUT_BIAS, IN_SELF_OUT_DEQSCALE,
                              IN_SELF_OUT_INDEX, IN_HOLDER, IN_HOLDER};
        opNode.outTensorIds = {INTERMEDIATE_SELF_OUT};
    }
    {
        atb::Node &opNode = opGraph.nodes.at(nodeId++);
        atb::infer::ElewiseParam addParam;
        addParam.elewiseType = atb::infer::ElewiseParam::ElewiseType::ELEWISE_ADD;
        CREATE_OPERATION(addParam, &opNode.operation);
        opNode.inTensorIds = {IN_HIDDEN_STATES, INTERMEDIATE_SELF_OUT};
        opNode.outTensorIds = {INTERMEDIATE_SELF_RESIDUAL_OUT};
    }
    {
        atb::Node &opNode = opGraph.nodes.at(nodeId++);
        atb::infer::RmsNormParam normParam;
        normParam.layerType = atb::infer::RmsNormParam::RmsNormType::RMS_NORM_NORM;
        normParam.normParam.epsilon = param.rmsNormEps;
        normParam.normParam.quantInputScale = param.selfLnInputScale;
        normParam.normParam.quantInputOffset = param.selfLnInputOffset;
        normParam.normParam.quantType = atb::infer::QUANT_INT8;
        CREATE_OPERATION(normParam, &opNode.operation);
        opNode.inTensorIds = {INTERMEDIATE_SELF_RESIDUAL_OUT, IN_POST_NORM_WEIGHT, IN_BETA};
        opNode.outTensorIds = {INTERMEDIATE_POST_NORM_OUT};
    }
    {
        atb::Node &opNode = opGraph.nodes.at(nodeId++);
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
        mlpParam.isSparse = true;
        atb_speed::common::MlpGateLayerV2(mlpParam, &opNode.operation);
        opNode.inTensorIds = {INTERMEDIATE_POST_NORM_OUT, IN_MLP_UP_WEIGHT, IN_MLP_GATE_WEIGHT, IN_MLP_DOWN_WEIGHT,
                              IN_MLP_UP_DEQSCALE, IN_MLP_GATE_DEQSCALE, IN_MLP_DOWN_DEQSCALE, IN_MLP_UP_BIAS,
                              IN_MLP_GATE_BIAS, IN_MLP_DOWN_BIAS, IN_MLP_UP_INDEX, IN_MLP_GATE_INDEX, IN_MLP_DOWN_INDEX,
                              IN_HOLDER, IN_HOLDER, IN_HOLDER, IN_HOLDER, IN_HOLDER, IN_HOLDER};
        opNode.outTensorIds = {INTERMEDIATE_MLP_OUT};
    }
    {
        atb::Node &opNode = opGraph.nodes.at(nodeId++);
        atb::infer::ElewiseParam addParam;
        addParam.elewiseType = atb::infer::ElewiseParam::ElewiseType::ELEWISE_ADD;
        CREATE_OPERATION(addParam, &opNode.operation);
        opNode.inTensorIds = {INTERMEDIATE_SELF_RESIDUAL_OUT, INTERMEDIATE_MLP_OUT};
        opNode.outTensorIds = {OUT_LAYER_OUT};
    }

    opGraph.inferShapeFunc = [=](const atb::SVector<atb::TensorDesc> &inTensorDescs,
                                 atb::SVector<atb::TensorDesc> &outTensorDescs) {
        outTensorDescs.at(0) = inTensorDescs.at(0);
        return atb::NO_ERROR;
    };

    CREATE_OPERATION(opGraph, operation);
    return atb::NO_ERROR;
}
} // namespace tarsier
} // namespace atb_speed
