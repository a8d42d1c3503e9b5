/*
 * Copyright (c) 2024 Zephyr Model Authors. All rights reserved.
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
#include "models/zephyr/layer/sparse_quant_decoder_layer.h"
#include <cmath>
#include "layers/parallel_layer_v2.h"
#include "layers/mlp_gate_v2.h"

namespace atb_speed {
namespace zephyr {
static const uint64_t IN_TENSOR_COUNT = 33;
static const uint64_t OUT_TENSOR_COUNT = 1;
static const uint64_t INTERMEDIATE_TENSOR_COUNT = 12;
static const uint64_t NODE_COUNT = 10;

void from_json(const nlohmann::json &paramJson, DecoderSparseQuantLayerParam &param)
{
    paramJson.at("rmsNormEps").get_to(param.rmsNormEps);
    paramJson.at("headNum").get_to(param.headNum);
    paramJson.at("dk").get_to(param.dk);
    paramJson.at("qkvInputScale").get_to(param.qkvInputScale);
    paramJson.at("qkvInputOffset").get_to(param.qkvInputOffset);
    paramJson.at("selfLnInputScale").get_to(param.selfLnInputScale);
    paramJson.at("selfLnInputOffset").get_to(param.selfLnInputOffset);
    paramJson.at("denseInputScale").get_to(param.denseInputScale);
    paramJson.at("denseInputOffset").get_to(param.denseInputOffset);
    paramJson.at("ffnOutInputScale").get_to(param.ffnOutInputScale);
    paramJson.at("ffnOutInputOffset").get_to(param.ffnOutInputOffset);
    if (paramJson.contains("rank")) {
        paramJson.at("rank").get_to(param.rank);
    }
    if (paramJson.contains("rankSize")) {
        paramJson.at("rankSize").get_to(param.rankSize);
    }
    if (paramJson.contains("backend")) {
        paramJson.at("backend").get_to(param.backend);
    }
}

atb::Operation *CreateDecoderSparseQuantLayer(const nlohmann::json &paramJson)
{
    atb::Operation *op;
    DecoderSparseQuantLayer(paramJson.get<DecoderSparseQuantLayerParam>(), &op);
    return op;
}

atb::Status DecoderSparseQuantLayer(const DecoderSparseQuantLayerParam &param, atb::Operation **operation)
{
    atb::GraphParam opGraph;
    opGraph.inTensorNum = IN_TENSOR_COUNT;
    opGraph.outTensorNum = OUT_TENSOR_COUNT;
    opGraph.internalTensorNum = INTERMEDIATE_TENSOR_COUNT;
    opGraph.nodes.resize(NODE_COUNT);
    opGraph.name = "ZephyrDecoderLayer";

    size_t nodeId = 0;
    atb::Node &inputNormNode = opGraph.nodes.at(nodeId++);
    atb::Node &mixedQkvLinearNode = opGraph.nodes.at(nodeId++);
    atb::Node &splitQkvNode = opGraph.nodes.at(nodeId++);
    atb::Node &ropeNode = opGraph.nodes.at(nodeId++);
    atb::Node &selfAttentionNode = opGraph.nodes.at(nodeId++);
    atb::Node &selfOutLinearNode = opGraph.nodes.at(nodeId++);
    atb::Node &selfResidualAddNode = opGraph.nodes.at(nodeId++);
    atb::Node &postNormNode = opGraph.nodes.at(nodeId++);
    atb::Node &mlpNode = opGraph.nodes.at(nodeId++);
    atb::Node &mlpResidualAddNode = opGraph.nodes.at(nodeId++);

    atb::infer::RmsNormParam inputNormParam;
    inputNormParam.layerType = atb::infer::RmsNormParam::RmsNormType::RMS_NORM_NORM;
    inputNormParam.normParam.epsilon = param.rmsNormEps;
    inputNormParam.normParam.quantInputScale = param.qkvInputScale;
    inputNormParam.normParam.quantInputOffset = param.qkvInputOffset;
    inputNormParam.normParam.quantType = atb::infer::QUANT_INT8;
    CREATE_OPERATION(inputNormParam, &inputNormNode.operation);
    inputNormNode.inTensorIds = {IN_HIDDENSTATES, IN_INPUTNORMWEIGHT, IN_BETA};
    inputNormNode.outTensorIds = {INTERMEDIATE_INPUTNORMOUT};

    atb::infer::LinearSparseParam mixedQkvLinearParam = {false, true, 8, 8};
    CREATE_OPERATION(mixedQkvLinearParam, &mixedQkvLinearNode.operation);
    mixedQkvLinearNode.inTensorIds = {INTERMEDIATE_INPUTNORMOUT, IN_QKVMIXEDWEIGHT, IN_QKVMIXEDBIAS,
                                      IN_QKVMIXED_DEQSCALE, IN_QKVMIXED_INDEX};
    mixedQkvLinearNode.outTensorIds = {INTERMEDIATE_MIXEDQKV};

    atb::infer::SplitParam splitQkvParam;
    splitQkvParam.splitDim = -1;
    splitQkvParam.splitNum = 3;
    CREATE_OPERATION(splitQkvParam, &splitQkvNode.operation);
    splitQkvNode.inTensorIds = {INTERMEDIATE_MIXEDQKV};
    splitQkvNode.outTensorIds = {INTERMEDIATE_QUERY, INTERMEDIATE_KEY, INTERMEDIATE_VALUE};

    atb::infer::RopeParam ropeParam;
    ropeParam.rotaryCoeff = 2;
    CREATE_OPERATION(ropeParam, &ropeNode.operation);
    ropeNode.inTensorIds = {INTERMEDIATE_QUERY, INTERMEDIATE_KEY, IN_COSTABLE, IN_SINTABLE, IN_SEQLEN};
    ropeNode.outTensorIds = {INTERMEDIATE_QUERYEMBED, INTERMEDIATE_KEYEMBED};

    atb::infer::SelfAttentionParam selfAttentionParam;
    selfAttentionParam.headDim = param.dk;
    selfAttentionParam.headNum = param.headNum;
    selfAttentionParam.qkScale = 1.0 / sqrt(param.dk);
    CREATE_OPERATION(selfAttentionParam, &selfAttentionNode.operation);
    selfAttentionNode.inTensorIds = {INTERMEDIATE_QUERYEMBED, INTERMEDIATE_KEYEMBED, INTERMEDIATE_VALUE, IN_PASTKEY,
                                     IN_PASTVALUE, IN_ATTENTIONMASK, IN_TOKENOFFSET, IN_SEQLEN, IN_LAYERID};
    selfAttentionNode.outTensorIds = {INTERMEDIATE_SELFOUT};

    atb_speed::common::ParallelParamV2 selfOutLinearParam;
    selfOutLinearParam.commParam.rank = param.rank;
    selfOutLinearParam.commParam.rankSize = param.rankSize;
    selfOutLinearParam.commParam.rankRoot = 0;
    selfOutLinearParam.isBias = true;
    selfOutLinearParam.transposeB = true;
    selfOutLinearParam.commParam.backend = param.backend;
    selfOutLinearParam.isQuant = true;
    selfOutLinearParam.quantParam.quantType = atb::infer::QUANT_INT8;
    selfOutLinearParam.quantParam.isQuantOp = true;
    selfOutLinearParam.quantParam.elewiseType = atb::infer::ElewiseParam::ElewiseType::ELEWISE_QUANT;
    selfOutLinearParam.quantParam.inputScale = param.denseInputScale;
    selfOutLinearParam.quantParam.inputOffset = param.denseInputOffset;
    selfOutLinearParam.isSparse = true;
    atb_speed::common::RowParallelLinearV2(selfOutLinearParam, &selfOutLinearNode.operation);
    selfOutLinearNode.inTensorIds = {INTERMEDIATE_SELFOUT, IN_SELFOUTLINEARWEIGHT, IN_SELFOUTLINEARBIAS,
                                     IN_SELFOUTLINEAR_DEQSCALE, IN_SELFOUTLINEAR_INDEX, IN_HOLDER, IN_HOLDER};
    selfOutLinearNode.outTensorIds = {INTERMEDIATE_SELFLINEAROUT};

    atb::infer::ElewiseParam selfResidualAddParam;
    selfResidualAddParam.elewiseType = atb::infer::ElewiseParam::ElewiseType::ELEWISE_ADD;
    CREATE_OPERATION(selfResidualAddParam, &selfResidualAddNode.operation);
    selfResidualAddNode.inTensorIds = {IN_HIDDENSTATES, INTERMEDIATE_SELFLINEAROUT};
    selfResidualAddNode.outTensorIds = {INTERMEDIATE_SELFRESIDUALOUT};

    atb::infer::RmsNormParam postNormParam;
    postNormParam.layerType = atb::infer::RmsNormParam::RmsNormType::RMS_NORM_NORM;
    postNormParam.normParam.epsilon = param.rmsNormEps;
    postNormParam.normParam.quantInputScale = param.selfLnInputScale;
    postNormParam.normParam.quantInputOffset = param.selfLnInputOffset;
    postNormParam.normParam.quantType = atb::infer::QUANT_INT8;
    CREATE_OPERATION(postNormParam, &postNormNode.operation);
    postNormNode.inTensorIds = {INTERMEDIATE_SELFRESIDUALOUT, IN_POSTNORMWEIGHT, IN_BETA};
    postNormNode.outTensorIds = {INTERMEDIATE_POSTNORMOUT};

    atb_speed::common::MlpGateParamV2 mlpParam;
    mlpParam.commDownParam.rank = param.rank;
    mlpParam.commDownParam.rankSize = param.rankSize;
    mlpParam.activationType = atb::infer::ActivationType::ACTIVATION_SWIGLU_FORWARD;
    mlpParam.transposeB = true;
    mlpParam.isBias = true;
    mlpParam.isPack = false;
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
    atb_speed::common::MlpGateLayerV2(mlpParam, &mlpNode.operation);
    mlpNode.inTensorIds = {INTERMEDIATE_POSTNORMOUT, IN_MLP_UP_WEIGHT, IN_MLP_GATE_WEIGHT, IN_MLPDOWNWEIGHT,
                           IN_MLP_UP_DEQSCALE, IN_MLP_GATE_DEQSCALE, IN_MLPDOWN_DEQSCALE, IN_MLP_UP_BIAS,
                           IN_MLP_GATE_BIAS, IN_MLPDOWN_BIAS, IN_MLP_UP_INDEX, IN_MLP_GATE_INDEX, IN_MLPDOWN_INDEX,
                           IN_HOLDER, IN_HOLDER, IN_HOLDER, IN_HOLDER, IN_HOLDER, IN_HOLDER};
    mlpNode.outTensorIds = {INTERMEDIATE_MLPOUT};

    atb::infer::ElewiseParam mlpResidualAddParam;
    mlpResidualAddParam.elewiseType = atb::infer::ElewiseParam::ElewiseType::ELEWISE_ADD;
    CREATE_OPERATION(mlpResidualAddParam, &mlpResidualAddNode.operation);
    mlpResidualAddNode.inTensorIds = {INTERMEDIATE_SELFRESIDUALOUT, INTERMEDIATE_MLPOUT};
    mlpResidualAddNode.outTensorIds = {OUT_ZEPHYRLAYEROUT};

    opGraph.inferShapeFunc = [](const atb::SVector<atb::TensorDesc> &inTensorDescs,
                                atb::SVector<atb::TensorDesc> &outTensorDescs) {
        outTensorDescs.at(0) = inTensorDescs.at(0);
        return atb::NO_ERROR;
    };

    CREATE_OPERATION(opGraph, operation);
    return atb::NO_ERROR;
}

DecoderSparseQuantLayerBinder::DecoderSparseQuantLayerBinder() {}

DecoderSparseQuantLayerBinder::~DecoderSparseQuantLayerBinder() {}

void DecoderSparseQuantLayerBinder::ParseParam(const nlohmann::json &paramJson)
{
    tokenOffset_.clear();
    for (auto item : paramJson["tokenOffset"]) {
        tokenOffset_.push_back(item.get<int>());
    }
    seqLen_.clear();
    for (auto item : paramJson["seqLen"]) {
        seqLen_.push_back(item.get<int>());
    }
}

void DecoderSparseQuantLayerBinder::BindTensor(atb::VariantPack &variantPack)
{
    const uint32_t tokenOffsetTensorId = IN_TOKENOFFSET;
    const uint32_t seqLenTensorId = IN_SEQLEN;
    variantPack.inTensors.at(tokenOffsetTensorId).hostData = tokenOffset_.data();
    variantPack.inTensors.at(seqLenTensorId).hostData = seqLen_.data();
}
} // namespace zephyr
} // namespace atb_speed
