/*
 * Copyright (c) 2024 Fixture Authors. All rights reserved.
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
#include "quant_block_layer.h"
#include <cmath>
#include "models/telechat/operation/parallel_linear_v2.h"
#include "models/telechat/operation/mlp_gate_v2.h"
#include "models/telechat/operation/rope.h"

namespace atb_speed {
namespace telechat {
enum BlockQuantLayerTensorId : int {
    IN_HIDDENSTATES = 0,
    IN_NORMWEIGHT,
    IN_NORMBIAS,
    IN_QKVMIXEDWEIGHT,
    IN_QKVMIXED_DEQSCALE,
    IN_QKVMIXED_BIAS,
    IN_SELFOUTLINEARWEIGHT,
    IN_SELFOUTLINEARBIAS,
    IN_SELFOUTLINEAR_DEQSCALE,
    IN_SELFOUTNORMWEIGHT,
    IN_SELFOUTNORMBIAS,
    IN_MLPGATEWEIGHT,
    IN_MLPGATE_DEQSCALE,
    IN_MLPGATE_BIAS,
    IN_MLPUPWEIGHT,
    IN_MLPUP_DEQSCALE,
    IN_MLPUP_BIAS,
    IN_MLPDOWNWEIGHT,
    IN_MLPDOWN_DEQSCALE,
    IN_MLPDOWN_BIAS,
    IN_COSTABLE,
    IN_SINTABLE,
    IN_ATTENTIONMASK,
    IN_CACHEK,
    IN_CACHEV,
    IN_TOKENOFFSET,
    IN_SEQLEN,
    IN_LAYERID,
    IN_HOLDER,
    OUT_TELECHATLAYEROUT,
    INTERMIDATE_INPUTNORMOUT,
    INTERMIDATE_MIXEDQKV,
    INTERMIDATE_QUERY,
    INTERMIDATE_KEY,
    INTERMIDATE_VALUE,
    INTERMIDATE_QUERYEMBED,
    INTERMIDATE_KEYEMBED,
    INTERMIDATE_SELFOUT,
    INTERMIDATE_SELFLINEAROUT,
    INTERMIDATE_SELFRESIDUALADDOUT,
    INTERMIDATE_SELFNORMOUT,
    INTERMIDATE_MLPOUT,
};

static const uint64_t IN_TENSOR_COUNT = 29;
static const uint64_t OUT_TENSOR_COUNT = 1;
static const uint64_t INTERMEDIATE_TENSOR_COUNT = 12;
static const uint64_t NODE_COUNT = 10;

void from_json(const nlohmann::json &paramJson, BlockQuantLayerParam &param)
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
    paramJson.at("isFloatQkvLayer").get_to(param.isFloatQkvLayer);
    paramJson.at("isFloatDownLayer").get_to(param.isFloatDownLayer);
    if (paramJson.contains("rank")) {
        paramJson.at("rank").get_to(param.rank);
    }
    if (paramJson.contains("rankSize")) {
        paramJson.at("rankSize").get_to(param.rankSize);
    }
}

atb::Operation *CreateBlockQuantLayer(const nlohmann::json &paramJson)
{
    atb::Operation *op;
    BlockQuantLayer(paramJson.get<BlockQuantLayerParam>(), &op);
    return op;
}

atb::Status BlockQuantLayer(const BlockQuantLayerParam &param, atb::Operation **operation)
{
    atb::GraphParam opGraph;
    opGraph.inTensorNum = IN_TENSOR_COUNT;
    opGraph.outTensorNum = OUT_TENSOR_COUNT;
    opGraph.internalTensorNum = INTERMEDIATE_TENSOR_COUNT;
    opGraph.nodes.resize(NODE_COUNT);
    opGraph.name = "TelechatBlockLayer";

    size_t nodeId = 0;
    atb::Node &inputNormNode = opGraph.nodes.at(nodeId++);
    atb::Node &mixedQkvLinearNode = opGraph.nodes.at(nodeId++);
    atb::Node &splitQkvNode = opGraph.nodes.at(nodeId++);
    atb::Node &ropeNode = opGraph.nodes.at(nodeId++);
    atb::Node &selfAttentionNode = opGraph.nodes.at(nodeId++);
    atb::Node &selfOutLinearNode = opGraph.nodes.at(nodeId++);
    atb::Node &selfResidualAddNode = opGraph.nodes.at(nodeId++);
    atb::Node &selfNormNode = opGraph.nodes.at(nodeId++);
    atb::Node &mlpNode = opGraph.nodes.at(nodeId++);
    atb::Node &mlpResidualAddNode = opGraph.nodes.at(nodeId++);

    atb::infer::RmsNormParam inputNormParam;
    inputNormParam.layerType = atb::infer::RmsNormParam::RmsNormType::RMS_NORM_NORM;
    inputNormParam.normParam.epsilon = param.rmsNormEps;
    if (param.isFloatQkvLayer) {
        CREATE_OPERATION(inputNormParam, &inputNormNode.operation);
        inputNormNode.inTensorIds = {IN_HIDDENSTATES, IN_NORMWEIGHT};
        inputNormNode.outTensorIds = {INTERMIDATE_INPUTNORMOUT};
    } else {
        atb::infer::RmsNormParam inputNormParam2 = inputNormParam;
        inputNormParam2.normParam.quantInputScale = param.qkvInputScale;
        inputNormParam2.normParam.quantInputOffset = param.qkvInputOffset;
        inputNormParam2.normParam.quantType = atb::infer::QUANT_INT8;
        CREATE_OPERATION(inputNormParam2, &inputNormNode.operation);
        inputNormNode.inTensorIds = {IN_HIDDENSTATES, IN_NORMWEIGHT, IN_NORMBIAS};
        inputNormNode.outTensorIds = {INTERMIDATE_INPUTNORMOUT};
    }

    atb::infer::LinearParam mixedQkvLinearParam = {false, true, false};
    if (param.isFloatQkvLayer) {
        CREATE_OPERATION(mixedQkvLinearParam, &mixedQkvLinearNode.operation);
        mixedQkvLinearNode.inTensorIds = {INTERMIDATE_INPUTNORMOUT, IN_QKVMIXEDWEIGHT};
        mixedQkvLinearNode.outTensorIds = {INTERMIDATE_MIXEDQKV};
    } else {
        atb::infer::LinearParam mixedQkvLinearParam2 = mixedQkvLinearParam;
        mixedQkvLinearParam2.hasBias = true;
        mixedQkvLinearParam2.transposeB = true;
        mixedQkvLinearParam2.linearType = atb::infer::LinearType::LINEAR_INT8INT8_INT32_FP16;
        CREATE_OPERATION(mixedQkvLinearParam2, &mixedQkvLinearNode.operation);
        mixedQkvLinearNode.inTensorIds = {INTERMIDATE_INPUTNORMOUT, IN_QKVMIXEDWEIGHT, IN_QKVMIXED_BIAS,
                                          IN_QKVMIXED_DEQSCALE};
        mixedQkvLinearNode.outTensorIds = {INTERMIDATE_MIXEDQKV};
    }

    atb::infer::SplitParam splitQkvParam = {-1, 3};
    CREATE_OPERATION(splitQkvParam, &splitQkvNode.operation);
    splitQkvNode.inTensorIds = {INTERMIDATE_MIXEDQKV};
    splitQkvNode.outTensorIds = {INTERMIDATE_QUERY, INTERMIDATE_KEY, INTERMIDATE_VALUE};

    atb_speed::telechat::RopeParam ropeParam;
    ropeParam.rotaryCoeff = param.rotaryCoeff;
    ropeParam.headNum = param.headNum;
    atb_speed::telechat::Rope(ropeParam, &ropeNode.operation);
    ropeNode.inTensorIds = {INTERMIDATE_QUERY, INTERMIDATE_KEY, IN_COSTABLE, IN_SINTABLE, IN_SEQLEN};
    ropeNode.outTensorIds = {INTERMIDATE_QUERYEMBED, INTERMIDATE_KEYEMBED};

    atb::infer::SelfAttentionParam selfAttentionParam;
    selfAttentionParam.headDim = param.dk;
    selfAttentionParam.headNum = param.headNum;
    selfAttentionParam.qkScale = 1.0 / sqrt(param.dk);
    CREATE_OPERATION(selfAttentionParam, &selfAttentionNode.operation);
    selfAttentionNode.inTensorIds = {INTERMIDATE_QUERYEMBED, INTERMIDATE_KEYEMBED, INTERMIDATE_VALUE, IN_CACHEK,
                                     IN_CACHEV, IN_ATTENTIONMASK, IN_TOKENOFFSET, IN_SEQLEN, IN_LAYERID};
    selfAttentionNode.outTensorIds = {INTERMIDATE_SELFOUT};

    atb_speed::telechat::ParallelParamV2 selfOutLinearParam;
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
    atb_speed::telechat::RowParallelLinearV2(selfOutLinearParam, &selfOutLinearNode.operation);
    selfOutLinearNode.inTensorIds = {INTERMIDATE_SELFOUT, IN_SELFOUTLINEARWEIGHT, IN_SELFOUTLINEARBIAS,
                                     IN_SELFOUTLINEAR_DEQSCALE, IN_HOLDER};
    selfOutLinearNode.outTensorIds = {INTERMIDATE_SELFLINEAROUT};

    atb::infer::ElewiseParam selfResidualAddParam;
    selfResidualAddParam.elewiseType = atb::infer::ElewiseParam::ElewiseType::ELEWISE_ADD;
    CREATE_OPERATION(selfResidualAddParam, &selfResidualAddNode.operation);
    selfResidualAddNode.inTensorIds = {IN_HIDDENSTATES, INTERMIDATE_SELFLINEAROUT};
    selfResidualAddNode.outTensorIds = {INTERMIDATE_SELFRESIDUALADDOUT};

    atb::infer::RmsNormParam selfNormParam;
    selfNormParam.layerType = atb::infer::RmsNormParam::RmsNormType::RMS_NORM_NORM;
    selfNormParam.normParam.epsilon = param.rmsNormEps;
    selfNormParam.normParam.quantInputScale = param.selfLnInputScale;
    selfNormParam.normParam.quantInputOffset = param.selfLnInputOffset;
    selfNormParam.normParam.quantType = atb::infer::QUANT_INT8;
    CREATE_OPERATION(selfNormParam, &selfNormNode.operation);
    selfNormNode.inTensorIds = {INTERMIDATE_SELFRESIDUALADDOUT, IN_SELFOUTNORMWEIGHT, IN_SELFOUTNORMBIAS};
    selfNormNode.outTensorIds = {INTERMIDATE_SELFNORMOUT};

    atb_speed::telechat::MlpGateParamV2 mlpParam;
    mlpParam.activationType = atb::infer::ActivationType::ACTIVATION_SWISH;
    mlpParam.transposeB = true;
    mlpParam.isBias = true;
    mlpParam.commDownParam.rank = param.rank;
    mlpParam.commDownParam.rankSize = param.rankSize;
    mlpParam.commDownParam.backend = param.backend;
    mlpParam.isUpQuant = true;
    mlpParam.isGateQuant = true;
    mlpParam.isDownQuant = !param.isFloatDownLayer;
    mlpParam.quantUpParam.quantType = atb::infer::QUANT_INT8;
    mlpParam.quantUpParam.isQuantOp = false;
    mlpParam.quantGateParam.quantType = atb::infer::QUANT_INT8;
    mlpParam.quantGateParam.isQuantOp = false;
    mlpParam.quantDownParam.quantType = atb::infer::QUANT_INT8;
    mlpParam.quantDownParam.isQuantOp = true;
    mlpParam.quantDownParam.elewiseType = atb::infer::ElewiseParam::ElewiseType::ELEWISE_QUANT;
    mlpParam.quantDownParam.inputScale = param.ffnOutInputScale;
    mlpParam.quantDownParam.inputOffset = param.ffnOutInputOffset;
    atb_speed::telechat::MlpGateLayerV2(mlpParam, &mlpNode.operation);
    mlpNode.inTensorIds = {INTERMIDATE_SELFNORMOUT, IN_MLPUPWEIGHT, IN_MLPGATEWEIGHT, IN_MLPDOWNWEIGHT,
                           IN_MLPUP_DEQSCALE, IN_MLPGATE_DEQSCALE, IN_MLPDOWN_DEQSCALE, IN_MLPUP_BIAS, IN_MLPGATE_BIAS,
                           IN_MLPDOWN_BIAS, IN_HOLDER, IN_HOLDER, IN_HOLDER};
    mlpNode.outTensorIds = {INTERMIDATE_MLPOUT};

    atb::infer::ElewiseParam mlpResidualAddParam;
    mlpResidualAddParam.elewiseType = atb::infer::ElewiseParam::ElewiseType::ELEWISE_ADD;
    CREATE_OPERATION(mlpResidualAddParam, &mlpResidualAddNode.operation);
    mlpResidualAddNode.inTensorIds = {INTERMIDATE_SELFRESIDUALADDOUT, INTERMIDATE_MLPOUT};
    mlpResidualAddNode.outTensorIds = {OUT_TELECHATLAYEROUT};

    opGraph.inferShapeFunc = [=](const atb::SVector<atb::TensorDesc> &inTensorDescs,
                                 atb::SVector<atb::TensorDesc> &outTensorDescs) {
        outTensorDescs.at(0) = inTensorDescs.at(0);
        return atb::NO_ERROR;
    };

    CREATE_OPERATION(opGraph, operation);
    return atb::NO_ERROR;
}

BlockQuantLayerBinder::BlockQuantLayerBinder() {}

BlockQuantLayerBinder::~BlockQuantLayerBinder() {}

void BlockQuantLayerBinder::ParseParam(const nlohmann::json &paramJson)
{
    tokenOffset_.clear();
    for (auto item : paramJson["tokenOffset"]) {
        tokenOffset_.push_back(item.get<int32_t>());
    }
    seqLen_.clear();
    for (auto item : paramJson["seqLen"]) {
        seqLen_.push_back(item.get<int32_t>());
    }
}

void BlockQuantLayerBinder::BindTensor(atb::VariantPack &variantPack)
{
    variantPack.inTensors.at(IN_TOKENOFFSET).hostData = tokenOffset_.data();
    variantPack.inTensors.at(IN_SEQLEN).hostData = seqLen_.data();
}
} // namespace telechat
} // namespace atb_speed
