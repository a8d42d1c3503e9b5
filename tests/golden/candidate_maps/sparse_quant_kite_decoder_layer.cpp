/*
 * Copyright (c) 2025 The Kite Model Authors. All rights reserved.
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
#include "sparse_quant_kite_decoder_layer.h"

#include <cmath>
#include <map>
#include <vector>

#include "atb_speed/utils/tensor_util.h"
#include "layers/parallel_layer_v2.h"
#include "layers/mlp_gate_v2.h"

namespace atb_speed {
namespace kite {
std::map<std::string, std::vector<std::string>> SparseQuantGetKiteLayerInTensorCandidates()
{
    std::map<std::string, std::vector<std::string>> kiteLayerInTensorCandidates = {
        {"default_weight", {
            "in_input_norm_weight", "in_qkv_weight",
            "in_qkv_deqscale",
            "in_qkv_bias",
            "in_qkv_index", "in_attention_out_weight",
            "in_attention_out_deqscale",
            "in_attention_out_bias",
            "in_attention_out_index", "in_post_norm_weight",
            "in_mlp_up_weight",
            "in_mlp_up_deqscale",
            "in_mlp_up_bias",
            "in_mlp_up_index", "in_mlp_gate_weight",
            "in_mlp_gate_deqscale",
            "in_mlp_gate_bias",
            "in_mlp_gate_index", "in_mlp_down_weight",
            "in_mlp_down_deqscale",
            "in_mlp_down_bias",
            "in_mlp_down_index"}},
        {"default", {
            "in_hidden_states", "in_attention_mask", "position_ids", "in_k_cache", "in_v_cache",
            "in_token_offset", "in_seq_len", "in_layer_id", "in_beta", "place_holder"}},
        {"speculate", {"in_q_len"}},
    };
    return kiteLayerInTensorCandidates;
}

std::map<std::string, std::vector<std::string>> SparseQuantGetKiteLayerIntermediateTensorCandidates()
{
    std::map<std::string, std::vector<std::string>> kiteLayerIntermediateTensorCandidates = {
        {"default", {
            "intermediate_input_norm_out", "intermediate_qkv", "intermediate_q", "intermediate_k", "intermediate_v",
            "intermediate_attention_out", "intermediate_attention_linear_out", "intermediate_attention_residual_out",
            "intermediate_post_norm_out", "intermediate_mlp_out"}},
    };
    return kiteLayerIntermediateTensorCandidates;
}

std::map<std::string, uint32_t> SparseQuantConstructTensorMap(
    const KiteSparseQuantLayerParam &param, uint32_t &inTensorNum, uint32_t &outTensorNum, uint32_t &internalTensorNum)
{
    auto inTensorCandidates = SparseQuantGetKiteLayerInTensorCandidates();
    auto intermediateTensorCandidates = SparseQuantGetKiteLayerIntermediateTensorCandidates();
    std::vector<std::string> inTensorList = {};
    std::vector<std::string> intermediateTensorList = {};
    std::vector<std::string> outTensorList = {"out_decoder_layer"};
    atb_speed::common::AddTensorToList(inTensorCandidates, "default_weight", inTensorList);
    atb_speed::common::AddTensorToList(inTensorCandidates, "default", inTensorList);
    if (param.enableSpeculate) {
        atb_speed::common::AddTensorToList(inTensorCandidates, "speculate", inTensorList);
    }
    atb_speed::common::AddTensorToList(intermediateTensorCandidates, "default", intermediateTensorList);
    inTensorNum = inTensorList.size();
    outTensorNum = outTensorList.size();
    internalTensorNum = intermediateTensorList.size();
    return atb_speed::common::GetTensorMap(inTensorList, outTensorList, intermediateTensorList);
}

atb::Status SparseQuantAddInputNorm(atb::GraphParam &opGraph, const KiteSparseQuantLayerParam &param,
                         std::map<std::string, uint32_t> &tensorMap)
{
    atb::Node inputNormNode;
    atb::infer::RmsNormParam inputNormParam;
    inputNormParam.layerType = atb::infer::RmsNormParam::RmsNormType::RMS_NORM_NORM;
    inputNormParam.normParam.epsilon = param.rmsNormEps;
    inputNormParam.normParam.quantInputScale = param.qkvInputScale;
    inputNormParam.normParam.quantInputOffset = param.qkvInputOffset;
    inputNormParam.normParam.quantType = atb::infer::QUANT_INT8;
    CHECK_OPERATION_STATUS_RETURN(atb::CreateOperation(inputNormParam, &inputNormNode.operation));
    inputNormNode.inTensorIds =
        atb_speed::common::GetTensorIdxList(tensorMap, {"in_hidden_states", "in_input_norm_weight", "in_beta"});
    inputNormNode.outTensorIds = atb_speed::common::GetTensorIdxList(tensorMap, {"intermediate_input_norm_out"});
    opGraph.nodes.push_back(inputNormNode);
    return atb::NO_ERROR;
}

atb::Status SparseQuantAddQkv(atb::GraphParam &opGraph, std::map<std::string, uint32_t> &tensorMap)
{
    atb::Node qkvLinearNode;
    atb::infer::LinearSparseParam qkvLinearParam = {false, true, 8, 8};
    CHECK_OPERATION_STATUS_RETURN(atb::CreateOperation(qkvLinearParam, &qkvLinearNode.operation));
    std::vector<std::string> qkvInTensorNames = {"intermediate_input_norm_out", "in_qkv_weight", "in_qkv_bias",
                                                 "in_qkv_deqscale", "in_qkv_index"};
    qkvLinearNode.inTensorIds = atb_speed::common::GetTensorIdxList(tensorMap, qkvInTensorNames);
    qkvLinearNode.outTensorIds = atb_speed::common::GetTensorIdxList(tensorMap, {"intermediate_qkv"});
    opGraph.nodes.push_back(qkvLinearNode);

    atb::Node splitQkvNode;
    atb::infer::SplitParam splitQkvParam = {-1, 3};
    CHECK_OPERATION_STATUS_RETURN(atb::CreateOperation(splitQkvParam, &splitQkvNode.operation));
    splitQkvNode.inTensorIds = atb_speed::common::GetTensorIdxList(tensorMap, {"intermediate_qkv"});
    splitQkvNode.outTensorIds =
        atb_speed::common::GetTensorIdxList(tensorMap, {"intermediate_q", "intermediate_k", "intermediate_v"});
    opGraph.nodes.push_back(splitQkvNode);
    return atb::NO_ERROR;
}

atb::Status SparseQuantAddAttention(atb::GraphParam &opGraph, const KiteSparseQuantLayerParam &param,
                         std::map<std::string, uint32_t> &tensorMap)
{
    atb::Node attentionNode;
    atb::infer::SelfAttentionParam attentionParam;
    attentionParam.headNum = param.headNum;
    attentionParam.kvHeadNum = param.kvHeadNum;
    attentionParam.qkScale = 1.0 / std::sqrt(param.dk);
    CHECK_OPERATION_STATUS_RETURN(atb::CreateOperation(attentionParam, &attentionNode.operation));
    std::vector<std::string> attnInTensorNames = {
        "intermediate_q", "intermediate_k", "intermediate_v", "in_k_cache", "in_v_cache", "in_attention_mask",
        "in_token_offset", "in_seq_len", "in_layer_id"};
    if (param.enableSpeculate) {
        atb_speed::common::AddTensorToList(SparseQuantGetKiteLayerInTensorCandidates(), "speculate", attnInTensorNames);
    }
    attentionNode.inTensorIds = atb_speed::common::GetTensorIdxList(tensorMap, attnInTensorNames);
    attentionNode.outTensorIds = atb_speed::common::GetTensorIdxList(tensorMap, {"intermediate_attention_out"});
    opGraph.nodes.push_back(attentionNode);

    atb::Node attentionOutLinearNode;
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
    attentionOutLinearParam.isSparse = true;
    CHECK_OPERATION_STATUS_RETURN(
        atb_speed::common::RowParallelLinearV2(attentionOutLinearParam, &attentionOutLinearNode.operation));
    attentionOutLinearNode.inTensorIds = atb_speed::common::GetTensorIdxList(tensorMap, {
        "intermediate_attention_out", "in_attention_out_weight", "in_attention_out_bias", "in_attention_out_deqscale",
        "in_attention_out_index", "place_holder", "place_holder"});
    attentionOutLinearNode.outTensorIds =
        atb_speed::common::GetTensorIdxList(tensorMap, {"intermediate_attention_linear_out"});
    opGraph.nodes.push_back(attentionOutLinearNode);
    return atb::NO_ERROR;
}

atb::Status SparseQuantAddMlp(atb::GraphParam &opGraph, const KiteSparseQuantLayerParam &param,
                   std::map<std::string, uint32_t> &tensorMap)
{
    atb::Node postNormNode;
    atb::infer::RmsNormParam postNormParam;
    postNormParam.layerType = atb::infer::RmsNormParam::RmsNormType::RMS_NORM_NORM;
    postNormParam.normParam.epsilon = param.rmsNormEps;
    postNormParam.normParam.quantInputScale = param.selfLnInputScale;
    postNormParam.normParam.quantInputOffset = param.selfLnInputOffset;
    postNormParam.normParam.quantType = atb::infer::QUANT_INT8;
    CHECK_OPERATION_STATUS_RETURN(atb::CreateOperation(postNormParam, &postNormNode.operation));
    postNormNode.inTensorIds =
        atb_speed::common::GetTensorIdxList(tensorMap, {"intermediate_attention_residual_out", "in_post_norm_weight",
                                                        "in_beta"});
    postNormNode.outTensorIds = atb_speed::common::GetTensorIdxList(tensorMap, {"intermediate_post_norm_out"});
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
    mlpParam.isSparse = true;
    CHECK_OPERATION_STATUS_RETURN(atb_speed::common::MlpGateLayerV2(mlpParam, &mlpNode.operation));
    std::vector<std::string> mlpInTensorNames = {
        "intermediate_post_norm_out", "in_mlp_up_weight", "in_mlp_gate_weight", "in_mlp_down_weight",
        "in_mlp_up_deqscale", "in_mlp_gate_deqscale", "in_mlp_down_deqscale", "in_mlp_up_bias", "in_mlp_gate_bias",
        "in_mlp_down_bias", "in_mlp_up_index", "in_mlp_gate_index", "in_mlp_down_index", "place_holder", "place_holder",
        "place_holder", "place_holder", "place_holder", "place_holder"};
    mlpNode.inTensorIds = atb_speed::common::GetTensorIdxList(tensorMap, mlpInTensorNames);
    mlpNode.outTensorIds = atb_speed::common::GetTensorIdxList(tensorMap, {"intermediate_mlp_out"});
    opGraph.nodes.push_back(mlpNode);
    return atb::NO_ERROR;
}

atb::Status SparseQuantAddResidual(atb::GraphParam &opGraph, std::map<std::string, uint32_t> &tensorMap,
                        const std::string &residual, const std::string &update, const std::string &out)
{
    atb::Node residualAddNode;
    atb::infer::ElewiseParam addParam;
    addParam.elewiseType = atb::infer::ElewiseParam::ElewiseType::ELEWISE_ADD;
    CHECK_OPERATION_STATUS_RETURN(atb::CreateOperation(addParam, &residualAddNode.operation));
    residualAddNode.inTensorIds = {atb_speed::common::GetTensorIdx(tensorMap, residual),
                                   atb_speed::common::GetTensorIdx(tensorMap, update)};
    residualAddNode.outTensorIds = {atb_speed::common::GetTensorIdx(tensorMap, out)};
    opGraph.nodes.push_back(residualAddNode);
    return atb::NO_ERROR;
}

atb::Status KiteDecoderSparseQuantLayer(const KiteSparseQuantLayerParam &param, atb::Operation **operation)
{
    atb::GraphParam opGraph;
    opGraph.name = "KiteDecoderSparseQuantLayer";
    std::map<std::string, uint32_t> tensorMap =
        SparseQuantConstructTensorMap(param, opGraph.inTensorNum, opGraph.outTensorNum, opGraph.internalTensorNum);

    CHECK_OPERATION_STATUS_RETURN(SparseQuantAddInputNorm(opGraph, param, tensorMap));
    CHECK_OPERATION_STATUS_RETURN(SparseQuantAddQkv(opGraph, tensorMap));
    CHECK_OPERATION_STATUS_RETURN(SparseQuantAddAttention(opGraph, param, tensorMap));
    CHECK_OPERATION_STATUS_RETURN(SparseQuantAddResidual(opGraph, tensorMap, "in_hidden_states",
                                              "intermediate_attention_linear_out",
                                              "intermediate_attention_residual_out"));
    CHECK_OPERATION_STATUS_RETURN(SparseQuantAddMlp(opGraph, param, tensorMap));
    CHECK_OPERATION_STATUS_RETURN(SparseQuantAddResidual(opGraph, tensorMap, "intermediate_attention_residual_out",
                                              "intermediate_mlp_out", "out_decoder_layer"));

    opGraph.inferShapeFunc = [=](const atb::SVector<atb::TensorDesc> &inTensorDescs,
                                 atb::SVector<atb::TensorDesc> &outTensorDescs) {
        outTensorDescs.at(0) = inTensorDescs.at(0);
        return atb::NO_ERROR;
    };
    CHECK_OPERATION_STATUS_RETURN(atb::CreateOperation(opGraph, operation));
    return atb::NO_ERROR;
}
} // namespace kite
} // namespace atb_speed
