/*
 * Copyright (c) 2025 The Heron Model Authors. All rights reserved.
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
#include "quant_heron_decoder_layer.h"

#include <cmath>
#include <map>
#include <sstream>
#include <vector>

#include "atb_speed/utils/tensor_util.h"
#include "layers/parallel_layer_v2.h"
#include "layers/mlp_gate_v2.h"

namespace atb_speed {
namespace heron {
static const uint64_t NODE_COUNT = 9;

// 出错时释放已经创建的算子
static void FreeNodeResource(atb::GraphParam &opGraph)
{
    for (size_t i = 0; i < opGraph.nodes.size(); i++) {
        delete opGraph.nodes[i].operation;
        opGraph.nodes[i].operation = nullptr;
    }
}

atb::Status HeronDecoderQuantLayer(const HeronQuantLayerParam &param, atb::Operation **operation)
{
    std::vector<std::string> inTensorList = {
        "in_hidden_states", "in_input_norm_weight", "in_qkv_weight",
        "in_qkv_deqscale",
        "in_qkv_bias", "in_attention_out_weight",
        "in_attention_out_deqscale",
        "in_attention_out_bias",
        "in_post_norm_weight", "in_mlp_up_weight",
        "in_mlp_up_deqscale",
        "in_mlp_up_bias", "in_mlp_gate_weight",
        "in_mlp_gate_deqscale",
        "in_mlp_gate_bias", "in_mlp_down_weight",
        "in_mlp_down_deqscale",
        "in_mlp_down_bias",
        "in_attention_mask", "in_k_cache", "in_v_cache", "in_token_offset", "in_seq_len", "in_layer_id",
        "in_beta", "in_placeholder",
    };
    std::vector<std::string> alibiTensorList = {"in_alibi_slopes"};
    if (param.enableSpeculate) {
        inTensorList.push_back("in_q_len");
    }
    if (param.useAlibi) {
        for (auto tensor : alibiTensorList) {
            inTensorList.push_back(tensor);
        }
    }
    std::vector<std::string> outTensorList = {"out"};
    std::vector<std::string> intermediateTensorList = {
        "intermediate_input_norm_out", "intermediate_qkv", "intermediate_q", "intermediate_k", "intermediate_v",
        "intermediate_attention_out", "intermediate_attention_linear_out", "intermediate_attention_residual_out",
        "intermediate_post_norm_out", "intermediate_mlp_out",
    };
    std::map<std::string, uint32_t> tensorMap =
        atb_speed::common::GetTensorMap(inTensorList, outTensorList, intermediateTensorList);
    std::stringstream ss;
    for (auto it = tensorMap.cbegin(); it != tensorMap.cend(); ++it) {
        ss << it->first << " -> " << it->second << std::endl;
    }
    ATB_SPEED_LOG_DEBUG("heron tensors:\n" << ss.str());

    atb::GraphParam opGraph;
    opGraph.name = "HeronDecoderQuantLayer";
    opGraph.inTensorNum = inTensorList.size();
    opGraph.outTensorNum = outTensorList.size();
    opGraph.internalTensorNum = intermediateTensorList.size();
    opGraph.nodes.resize(NODE_COUNT);
    size_t nodeId = 0;

    atb::Node &inputNormNode = opGraph.nodes.at(nodeId++);
    atb::infer::RmsNormParam inputNormParam;
    inputNormParam.layerType = atb::infer::RmsNormParam::RmsNormType::RMS_NORM_NORM;
    inputNormParam.normParam.epsilon = param.rmsNormEps;
    inputNormParam.normParam.quantInputScale = param.qkvInputScale;
    inputNormParam.normParam.quantInputOffset = param.qkvInputOffset;
    inputNormParam.normParam.quantType = atb::infer::QUANT_INT8;
    CREATE_OPERATION(inputNormParam, &inputNormNode.operation);
    std::vector<std::string> inputNormInTensorNames = {"in_hidden_states", "in_input_norm_weight", "in_beta"};
    inputNormNode.inTensorIds = atb_speed::common::GetTensorIdxList(tensorMap, inputNormInTensorNames);
    inputNormNode.outTensorIds = atb_speed::common::GetTensorIdxList(tensorMap, {"intermediate_input_norm_out"});

    atb::Node &qkvLinearNode = opGraph.nodes.at(nodeId++);
    atb::infer::LinearParam qkvLinearParam;
    qkvLinearParam.transposeB = true;
    qkvLinearParam.hasBias = true;
    qkvLinearParam.linearType = atb::infer::LinearType::LINEAR_INT8INT8_INT32_FP16;
    CREATE_OPERATION(qkvLinearParam, &qkvLinearNode.operation);
    std::vector<std::string> qkvInTensorNames = {"intermediate_input_norm_out", "in_qkv_weight", "in_qkv_bias",
                                                 "in_qkv_deqscale"};
    qkvLinearNode.inTensorIds = atb_speed::common::GetTensorIdxList(tensorMap, qkvInTensorNames);
    qkvLinearNode.outTensorIds = atb_speed::common::GetTensorIdxList(tensorMap, {"intermediate_qkv"});

    atb::Node &splitQkvNode = opGraph.nodes.at(nodeId++);
    atb::infer::SplitParam splitQkvParam = {-1, 3};
    CREATE_OPERATION(splitQkvParam, &splitQkvNode.operation);
    splitQkvNode.inTensorIds = atb_speed::common::GetTensorIdxList(tensorMap, {"intermediate_qkv"});
    splitQkvNode.outTensorIds =
        atb_speed::common::GetTensorIdxList(tensorMap, {"intermediate_q", "intermediate_k", "intermediate_v"});

    atb::Node &attentionNode = opGraph.nodes.at(nodeId++);
    atb::infer::SelfAttentionParam attentionParam;
    attentionParam.headNum = param.headNum;
    attentionParam.kvHeadNum = param.kvHeadNum;
    attentionParam.qkScale = 1.0 / std::sqrt(param.dk);
    CREATE_OPERATION(attentionParam, &attentionNode.operation);
    std::vector<std::string> attnInTensorNames = {
        "intermediate_q", "intermediate_k", "intermediate_v", "in_k_cache", "in_v_cache",
        "in_attention_mask", "in_token_offset", "in_seq_len", "in_layer_id"};
    if (param.enableSpeculate) {
        attnInTensorNames.push_back("in_q_len");
    }
    if (param.useAlibi) {
        for (auto tensor : alibiTensorList) {
            attnInTensorNames.push_back(tensor);
        }
    }
    attentionNode.inTensorIds = atb_speed::common::GetTensorIdxList(tensorMap, attnInTensorNames);
    attentionNode.outTensorIds = atb_speed::common::GetTensorIdxList(tensorMap, {"intermediate_attention_out"});

    atb::Node &attentionOutLinearNode = opGraph.nodes.at(nodeId++);
    atb_speed::common::ParallelParamV2 attentionOutLinearParam;
    attentionOutLinearParam.isBias = true;
    attentionOutLinearParam.transposeB = true;
    attentionOutLinearParam.commParam.rank = param.rank;
    attentionOutLinearParam.commParam.rankSize = param.rankSize;
    attentionOutLinearParam.commParam.backend = param.backend;
    attentionOutLinearParam.isQuant = true;
    attentionOutLinearParam.quantParam.quantType = atb::infer::QUANT_INT8;
    attentionOutLinearParam.quantParam.isQuantOp = true;
    attentionOutLinearParam.quantParam.elewiseType = atb::infer::ElewiseParam::ElewiseType::ELEWISE_QUANT;
    attentionOutLinearParam.quantParam.inputScale = param.denseInputScale;
    attentionOutLinearParam.quantParam.inputOffset = param.denseInputOffset;
    atb_speed::common::RowParallelLinearV2(attentionOutLinearParam, &attentionOutLinearNode.operation);
    std::vector<std::string> denseInTensorNames = {"intermediate_attention_out", "in_attention_out_weight"};
    std::vector<std::string> denseHolderNames = {
        "in_attention_out_bias", "in_attention_out_deqscale", "in_placeholder", "in_placeholder", "in_placeholder"};
    for (auto tensor : denseHolderNames) {
        denseInTensorNames.push_back(tensor);
    }
    attentionOutLinearNode.inTensorIds = atb_speed::common::GetTensorIdxList(tensorMap, denseInTensorNames);
    attentionOutLinearNode.outTensorIds =
        atb_speed::common::GetTensorIdxList(tensorMap, {"intermediate_attention_linear_out"});

    atb::Node &attentionResidualAddNode = opGraph.nodes.at(nodeId++);
    atb::infer::ElewiseParam addParam;
    addParam.elewiseType = atb::infer::ElewiseParam::ElewiseType::ELEWISE_ADD;
    CREATE_OPERATION(addParam, &attentionResidualAddNode.operation);
    attentionResidualAddNode.inTensorIds =
        atb_speed::common::GetTensorIdxList(tensorMap, {"in_hidden_states", "intermediate_attention_linear_out"});
    attentionResidualAddNode.outTensorIds =
        atb_speed::common::GetTensorIdxList(tensorMap, {"intermediate_attention_residual_out"});

    atb::Node &postNormNode = opGraph.nodes.at(nodeId++);
    atb::infer::RmsNormParam postNormParam;
    postNormParam.layerType = atb::infer::RmsNormParam::RmsNormType::RMS_NORM_NORM;
    postNormParam.normParam.epsilon = param.rmsNormEps;
    CREATE_OPERATION(postNormParam, &postNormNode.operation);
    std::vector<std::string> postNormInTensorNames = {};
    postNormInTensorNames = {"intermediate_attention_residual_out", "in_post_norm_weight"};
    postNormNode.inTensorIds = atb_speed::common::GetTensorIdxList(tensorMap, postNormInTensorNames);
    postNormNode.outTensorIds = atb_speed::common::GetTensorIdxList(tensorMap, {"intermediate_post_norm_out"});

    atb::Node &mlpNode = opGraph.nodes.at(nodeId++);
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
    mlpParam.quantUpParam.isQuantOp = true;
    mlpParam.quantGateParam.quantType = atb::infer::QUANT_INT8;
    mlpParam.quantGateParam.isQuantOp = false;
    mlpParam.quantDownParam.quantType = atb::infer::QUANT_INT8;
    mlpParam.quantDownParam.elewiseType = atb::infer::ElewiseParam::ElewiseType::ELEWISE_QUANT;
    mlpParam.quantDownParam.inputScale = param.ffnOutInputScale;
    mlpParam.quantDownParam.inputOffset = param.ffnOutInputOffset;
    mlpParam.quantUpParam.elewiseType = atb::infer::ElewiseParam::ElewiseType::ELEWISE_QUANT;
    mlpParam.quantUpParam.inputScale = param.mlpInInputScale;
    mlpParam.quantUpParam.inputOffset = param.mlpInInputOffset;
    atb_speed::common::MlpGateLayerV2(mlpParam, &mlpNode.operation);
    mlpNode.inTensorIds = atb_speed::common::GetTensorIdxList(tensorMap, {
        "intermediate_post_norm_out", "in_mlp_up_weight", "in_mlp_gate_weight", "in_mlp_down_weight",
        "in_mlp_up_deqscale", "in_mlp_gate_deqscale", "in_mlp_down_deqscale", "in_mlp_up_bias", "in_mlp_gate_bias",
        "in_mlp_down_bias", "in_placeholder", "in_placeholder", "in_placeholder", "in_placeholder",
        "in_placeholder", "in_placeholder", "in_placeholder", "in_placeholder", "in_placeholder"});
    mlpNode.outTensorIds = atb_speed::common::GetTensorIdxList(tensorMap, {"intermediate_mlp_out"});

    atb::Node &mlpResidualAddNode = opGraph.nodes.at(nodeId++);
    std::string mlpResidualInput = param.residualFromNorm ? "intermediate_post_norm_out" :
        "intermediate_attention_residual_out";
    CREATE_OPERATION(addParam, &mlpResidualAddNode.operation);
    mlpResidualAddNode.inTensorIds =
        atb_speed::common::GetTensorIdxList(tensorMap, {mlpResidualInput, "intermediate_mlp_out"});
    mlpResidualAddNode.outTensorIds = atb_speed::common::GetTensorIdxList(tensorMap, {"out"});

    opGraph.inferShapeFunc = [=](const atb::SVector<atb::TensorDesc> &inTensorDescs,
                                 atb::SVector<atb::TensorDesc> &outTensorDescs) {
        outTensorDescs.at(0) = inTensorDescs.at(0);
        return atb::NO_ERROR;
    };

    atb::Status status = atb::CreateOperation(opGraph, operation);
    if (status != atb::NO_ERROR) {
        FreeNodeResource(opGraph);
    }
    return status;
}
} // namespace heron
} // namespace atb_speed
